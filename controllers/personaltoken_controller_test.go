package controllers

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

func TestPersonalTokenReconciler_IssuesAWorkingToken(t *testing.T) {
	for _, flavor := range []awxtest.Flavor{awxtest.FlavorController, awxtest.FlavorGateway} {
		t.Run(string(flavor), func(t *testing.T) {
			g := NewWithT(t)
			e := newPTEnv(t, flavor, nil)
			e.startManager()
			pt := e.waitReady(e.personalToken("ci-runner", nil))

			secret := e.secret("ci-runner-awx")
			g.Expect(secret).NotTo(BeNil())
			user, scopes, ok := e.awx.Authenticate(string(secret.Data["CONTROLLER_OAUTH_TOKEN"]))
			g.Expect(ok).To(BeTrue(), "the value in the Secret authenticates at AWX")
			g.Expect(user).To(Equal(awxUser))
			g.Expect(scopes).To(ConsistOf("read", "write"))
			g.Expect(string(secret.Data["CONTROLLER_HOST"])).To(Equal(e.awx.URL()))
			g.Expect(secret.Labels).To(HaveKeyWithValue(tokensv1alpha1.ManagedByLabel, tokensv1alpha1.ManagedByValue))
			g.Expect(secret.Annotations).To(HaveKeyWithValue(tokensv1alpha1.TokenIDAnnotation, strconv.FormatInt(pt.Status.TokenID, 10)))
			g.Expect(metav1.IsControlledBy(secret, pt)).To(BeTrue(), "the PersonalToken owns its Secret")

			g.Expect(pt.Status.Revision).To(Equal(int64(1)))
			g.Expect(pt.Status.User).To(Equal(awxUser))
			g.Expect(pt.Status.ExpiresAt).NotTo(BeNil())
			g.Expect(pt.Finalizers).To(ContainElement(PersonalTokenFinalizer))
			for _, abnormal := range []string{tokensv1alpha1.ReconcilingCondition, tokensv1alpha1.StalledCondition, tokensv1alpha1.IssuingCondition} {
				g.Expect(meta.FindStatusCondition(pt.Status.Conditions, abnormal)).To(BeNil(), "kstatus: %s is absent once Ready", abnormal)
			}
			e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
		})
	}
}

func TestPersonalTokenReconciler_SecretFormats(t *testing.T) {
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	formats := []struct {
		format    tokensv1alpha1.PersonalTokenSecretFormat
		host, key string
	}{
		{tokensv1alpha1.SecretFormatController, "CONTROLLER_HOST", "CONTROLLER_OAUTH_TOKEN"},
		{tokensv1alpha1.SecretFormatTower, "TOWER_HOST", "TOWER_OAUTH_TOKEN"},
		{tokensv1alpha1.SecretFormatGateway, "AAP_HOSTNAME", "AAP_TOKEN"},
		{tokensv1alpha1.SecretFormatResourceOperator, "host", "token"},
		{tokensv1alpha1.SecretFormatPlain, "", "token"},
	}
	for i, f := range formats {
		t.Run(string(f.format), func(t *testing.T) {
			g := NewWithT(t)
			pt := e.waitReady(e.personalToken(fmt.Sprintf("format-%d", i), func(pt *tokensv1alpha1.PersonalToken) {
				pt.Spec.Secret.Format = f.format
			}))
			secret := e.secret(pt.Spec.Secret.Name)
			wantKeys := []string{f.key}
			if f.host != "" {
				wantKeys = append(wantKeys, f.host)
				g.Expect(string(secret.Data[f.host])).To(Equal(e.awx.URL()))
			}
			g.Expect(secret.Data).To(HaveLen(len(wantKeys)))
			for _, k := range wantKeys {
				g.Expect(secret.Data).To(HaveKey(k))
			}
			_, _, ok := e.awx.Authenticate(string(secret.Data[f.key]))
			g.Expect(ok).To(BeTrue())
		})
	}
}

func TestPersonalTokenReconciler_UpdatesScopesAndDescriptionInPlace(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("in-place", nil))
	value := string(e.secret("in-place-awx").Data["CONTROLLER_OAUTH_TOKEN"])

	patch := client.MergeFrom(pt.DeepCopy())
	pt.Spec.Scopes = []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead}
	pt.Spec.Description = "read-only now"
	g.Expect(k8sClient.Patch(ctx, pt, patch)).To(Succeed())

	updated := e.waitReady(pt)
	g.Expect(updated.Status.TokenID).To(Equal(pt.Status.TokenID), "the same token, not a new one")
	g.Expect(updated.Status.Scopes).To(ConsistOf(tokensv1alpha1.ScopeRead))
	g.Expect(e.awx.Calls("create")).To(Equal(1))
	g.Expect(e.awx.Calls("update")).To(Equal(1))
	live := e.awx.LiveTokens(awxUser)
	g.Expect(live).To(HaveLen(1))
	g.Expect(live[0].Scopes).To(ConsistOf("read"))
	g.Expect(live[0].Description).To(HavePrefix("read-only now [token-operator "))
	_, scopes, ok := e.awx.Authenticate(value)
	g.Expect(ok).To(BeTrue(), "the Secret's value still works")
	g.Expect(scopes).To(ConsistOf("read"))
}

func TestPersonalTokenReconciler_RotateAnnotation(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("manual", nil))
	first := pt.Status.TokenID

	patch := client.MergeFrom(pt.DeepCopy())
	pt.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "2026-11-25T10:00:00Z"}
	g.Expect(k8sClient.Patch(ctx, pt, patch)).To(Succeed())

	g.Eventually(func() int64 { return e.get(pt).Status.TokenID }).WithTimeout(testenv.Wait).ShouldNot(Equal(first))
	rotated := e.waitReady(pt)
	g.Expect(rotated.Status.LastHandledRotateAt).To(Equal("2026-11-25T10:00:00Z"))
	g.Expect(rotated.Status.Revision).To(Equal(int64(2)))
	g.Eventually(func() []tokensv1alpha1.PreviousToken { return e.get(pt).Status.PreviousTokens }).Should(BeEmpty())
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

func TestPersonalTokenReconciler_SecretDeletedMintsAnew(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("lost", nil))
	first := pt.Status.TokenID

	g.Expect(k8sClient.Delete(ctx, e.secret("lost-awx"))).To(Succeed())

	// The value cannot be read back from AWX: a new token, and the old one revoked.
	g.Eventually(func() int64 { return e.get(pt).Status.TokenID }).WithTimeout(testenv.Wait).ShouldNot(Equal(first))
	g.Eventually(func() int { return len(e.awx.LiveTokens(awxUser)) }).WithTimeout(testenv.Wait).Should(Equal(1))
	e.waitReady(pt)
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

func TestPersonalTokenReconciler_SecretValueChangedByHandMintsAnew(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("edited", nil))
	first := pt.Status.TokenID

	secret := e.secret("edited-awx")
	secret.Data["CONTROLLER_OAUTH_TOKEN"] = []byte("pasted-by-hand")
	g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())

	g.Eventually(func() int64 { return e.get(pt).Status.TokenID }).WithTimeout(testenv.Wait).ShouldNot(Equal(first))
	g.Eventually(func() int { return len(e.awx.LiveTokens(awxUser)) }).WithTimeout(testenv.Wait).Should(Equal(1))
	e.waitReady(pt)
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

func TestPersonalTokenReconciler_DeleteRevokes(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("revoke-me", nil))

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), &tokensv1alpha1.PersonalToken{}))
	}).WithTimeout(testenv.Wait).Should(BeTrue())
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty(), "the token is revoked at AWX")
	g.Expect(e.secret("revoke-me-awx")).To(BeNil(), "no Secret is left holding a dead token")
}

func TestPersonalTokenReconciler_DeleteRetains(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("keep-me", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.DeletionPolicy = tokensv1alpha1.DeletionPolicyRetain
	}))

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), &tokensv1alpha1.PersonalToken{}))
	}).WithTimeout(testenv.Wait).Should(BeTrue())
	g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(1), "the token stays alive at AWX")
	secret := e.secret("keep-me-awx")
	g.Expect(secret).NotTo(BeNil())
	g.Expect(secret.OwnerReferences).To(BeEmpty(), "released, so garbage collection keeps it")
	_, _, ok := e.awx.Authenticate(string(secret.Data["CONTROLLER_OAUTH_TOKEN"]))
	g.Expect(ok).To(BeTrue())
}

func TestPersonalTokenReconciler_DeleteWithoutCredentialsCanBeReleased(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("stuck", nil))

	g.Expect(k8sClient.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ci-bot-login", Namespace: e.ns}})).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	g.Eventually(func() string {
		c := meta.FindStatusCondition(e.get(pt).Status.Conditions, tokensv1alpha1.ReadyCondition)
		return c.Reason + ": " + c.Message
	}).WithTimeout(testenv.Wait).Should(And(
		HavePrefix(tokensv1alpha1.RevocationBlockedReason),
		ContainSubstring(tokensv1alpha1.ReleaseFinalizerAnnotation)))

	patch := client.MergeFrom(pt.DeepCopy())
	pt.Annotations = map[string]string{tokensv1alpha1.ReleaseFinalizerAnnotation: "true"}
	g.Expect(k8sClient.Patch(ctx, pt, patch)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), &tokensv1alpha1.PersonalToken{}))
	}).WithTimeout(testenv.Wait).Should(BeTrue())
}

func TestPersonalTokenReconciler_WrongPasswordMintsNothingUntilFixed(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "bad-login", Namespace: e.ns},
		StringData: map[string]string{"username": awxUser, "password": "wrong"},
	})
	e.startManager()
	pt := e.personalToken("denied", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.CredentialsSecretRef.Name = "bad-login" })

	g.Eventually(func(g Gomega) {
		got := e.get(pt)
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, tokensv1alpha1.StalledCondition)).To(BeTrue())
		ready := meta.FindStatusCondition(got.Status.Conditions, tokensv1alpha1.ReadyCondition)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(tokensv1alpha1.AuthenticationFailedReason))
		g.Expect(ready.Message).To(ContainSubstring(`fix the credentials in Secret "bad-login"`))
	}).WithTimeout(testenv.Wait).Should(Succeed())
	g.Expect(e.awx.Calls("create")).To(Equal(0))
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty())
	g.Expect(e.secret("denied-awx")).To(BeNil())

	// Stalled means no retry of its own: fixing the Secret is what wakes the token.
	login := e.secret("bad-login")
	g.Expect(login.Labels).To(HaveKeyWithValue(tokensv1alpha1.CredentialsLabel, "true"))
	login.Data["password"] = []byte(awxPassword)
	g.Expect(k8sClient.Update(ctx, login)).To(Succeed())
	e.waitReady(pt)
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

func TestPersonalTokenReconciler_ClusterTokenIssuer(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	open := &tokensv1alpha1.ClusterTokenIssuer{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "awx-cluster-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedNamespaces: []string{e.ns}}},
	}
	closed := &tokensv1alpha1.ClusterTokenIssuer{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "awx-elsewhere-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedNamespaces: []string{"some-other-namespace"}}},
	}
	e.create(open)
	e.create(closed)
	e.startManager()
	ref := func(name string) func(*tokensv1alpha1.PersonalToken) {
		return func(pt *tokensv1alpha1.PersonalToken) {
			pt.Spec.IssuerRef = tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.ClusterTokenIssuerKind, Name: name}
		}
	}

	e.waitReady(e.personalToken("served", ref(open.Name)))
	refused := e.personalToken("refused", ref(closed.Name))
	g.Eventually(func(g Gomega) {
		ready := meta.FindStatusCondition(e.get(refused).Status.Conditions, tokensv1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(tokensv1alpha1.NamespaceNotAllowedReason))
		g.Expect(ready.Message).To(ContainSubstring("policy.allowedNamespaces"))
	}).WithTimeout(testenv.Wait).Should(Succeed())
	g.Expect(e.awx.Calls("create")).To(Equal(1), "only the served token was minted")
}

func TestPersonalTokenReconciler_PolicyRefusesBeforeAnyRemoteCall(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx-read-only", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{
			AWX:    &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedScopes: []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead}},
		},
	})
	// By hand, so that no issuer check runs while the calls are counted.
	e.checkIssuer("awx-read-only")
	e.awx.ResetCalls()
	pt := e.personalToken("greedy", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.IssuerRef.Name = "awx-read-only" })
	_, err := e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred(), "a policy refusal waits for the spec to change")

	ready := meta.FindStatusCondition(e.get(pt).Status.Conditions, tokensv1alpha1.ReadyCondition)
	g.Expect(ready).NotTo(BeNil())
	g.Expect(ready.Reason).To(Equal(tokensv1alpha1.PolicyViolationReason))
	g.Expect(ready.Message).To(ContainSubstring(`spec.scopes: "write" is not allowed`))
	g.Expect(e.awx.TotalCalls()).To(Equal(0))
}

func TestPersonalTokenReconciler_ForeignSecretStopsBeforeMinting(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "taken-awx", Namespace: e.ns},
		StringData: map[string]string{"token": "someone else's"},
	})
	e.startManager()
	pt := e.personalToken("taken", nil)

	g.Eventually(func(g Gomega) {
		ready := meta.FindStatusCondition(e.get(pt).Status.Conditions, tokensv1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(tokensv1alpha1.SecretConflictReason))
	}).WithTimeout(testenv.Wait).Should(Succeed())
	g.Expect(e.awx.Calls("create")).To(BeZero(), "nothing is minted for a Secret that cannot be written")
	g.Expect(string(e.secret("taken-awx").Data["token"])).To(Equal("someone else's"))
}

// Tenancy: a ClusterTokenIssuer serves only the namespaces its selector picks,
// and an issuer mints only for the AWX users its policy lists.
func TestPersonalTokenReconciler_IssuerPolicyKeepsTenantsInTheirRights(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	selective := &tokensv1alpha1.ClusterTokenIssuer{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "awx-selective-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"tokens": "allowed"}}}},
	}
	e.create(selective)
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, selective) })
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx-deploy-only", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedUsers: []string{"deploy-bot"}}},
	})
	// Checked by hand, not by a running manager, whose own checks of the
	// namespace's issuers could land among the calls counted below.
	clusterChecker := e.issuerReconciler(e.manualDeps(k8sClient)).clusterTokenIssuers()
	_, err := e.reconcile(clusterChecker, selective)
	g.Expect(err).NotTo(HaveOccurred())
	expectIssuer(t, selective, issuerOutcome{ready: metav1.ConditionTrue, message: "Controller",
		awxAPI: tokensv1alpha1.AWXAPIController, kstatus: kstatus.CurrentStatus})
	e.checkIssuer("awx-deploy-only")
	e.awx.ResetCalls()
	r := e.manualReconciler(k8sClient)

	unselected := e.personalToken("unselected", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.IssuerRef = tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.ClusterTokenIssuerKind, Name: selective.Name}
	})
	_, err = e.reconcile(r, unselected)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(unselected), tokensv1alpha1.NamespaceNotAllowedReason, "policy.namespaceSelector")
	g.Expect(e.awx.TotalCalls()).To(BeZero(), "refused before any call")

	otherUser := e.personalToken("other-user", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.IssuerRef.Name = "awx-deploy-only" })
	_, err = e.reconcile(r, otherUser)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(otherUser), tokensv1alpha1.PolicyViolationReason, `AWX user "ci-bot", which TokenIssuer "awx-deploy-only" does not allow`)
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(BeZero(), "nothing minted for a user the issuer does not allow")

	// Labelling the namespace lets the selective issuer serve it.
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: e.ns}, ns)).To(Succeed())
	ns.Labels = map[string]string{"tokens": "allowed"}
	g.Expect(k8sClient.Update(ctx, ns)).To(Succeed())
	_, err = e.reconcile(r, unselected)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(unselected), "Succeeded", "is in Secret")
}

// expectReady asserts obj's Ready condition's reason and a part of its message.
func expectReady(g Gomega, obj tokenObject, reason, message string) {
	ready := meta.FindStatusCondition(obj.GetConditions(), tokensv1alpha1.ReadyCondition)
	g.Expect(ready).NotTo(BeNil())
	g.Expect(ready.Reason).To(Equal(reason), "%+v", ready)
	g.Expect(ready.Message).To(ContainSubstring(message))
}

// A label or annotation removed from spec.secret leaves the Secret; those added
// by others stay.
func TestPersonalTokenReconciler_SecretMetadataFollowsTheSpec(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("labelled", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Secret.Labels = map[string]string{"team": "ci", "tier": "gold"}
		pt.Spec.Secret.Annotations = map[string]string{"owner": "ci-team"}
	})
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	secret := e.secret("labelled-awx")
	secret.Labels["added-by"] = "someone-else"
	g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())

	current := e.get(pt)
	current.Spec.Secret.Labels = map[string]string{"team": "ci"}
	current.Spec.Secret.Annotations = nil
	g.Expect(k8sClient.Update(ctx, current)).To(Succeed())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	secret = e.secret("labelled-awx")
	g.Expect(secret.Labels).To(HaveKeyWithValue("team", "ci"))
	g.Expect(secret.Labels).NotTo(HaveKey("tier"), "removed from spec.secret")
	g.Expect(secret.Annotations).NotTo(HaveKey("owner"), "removed from spec.secret")
	g.Expect(secret.Labels).To(HaveKeyWithValue("added-by", "someone-else"), "not the operator's to remove")
	g.Expect(secret.Labels).To(HaveKeyWithValue(tokensv1alpha1.ManagedByLabel, tokensv1alpha1.ManagedByValue))
}

// A namespace being deleted loses its issuer and credentials in any order: the
// token revokes itself with its own value, and the deletion goes on, so that the
// namespace can go. envtest runs no namespace controller: the test does its part,
// deleting what the namespace holds, then finalizing it.
func TestPersonalTokenReconciler_ANamespaceBeingDeletedIsNotHeldBack(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("leaving", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(1))
	dat := &tokensv1alpha1.DeviceAccessToken{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "leaving-too"},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{IssuerRef: tokensv1alpha1.IssuerRef{Name: "dh"}, UserID: 2,
			Actions: []tokensv1alpha1.DeviceHiveAction{"GetDevice"}, NetworkIDs: []string{"1"}, DeviceTypeIDs: []string{"*"},
			AccessTokenLifetime: metav1.Duration{Duration: 30 * time.Minute}, RefreshTokenLifetime: metav1.Duration{Duration: time.Hour},
			Secret: tokensv1alpha1.SecretTemplate{Name: "leaving-too-dh"}}}
	e.create(dat)

	// What the namespace controller does, in the order that hurts: the issuer and
	// the credentials go first.
	ns := &corev1.Namespace{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: e.ns}, ns)).To(Succeed())
	g.Expect(k8sClient.Delete(ctx, ns)).To(Succeed())
	for _, obj := range []client.Object{
		&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "awx"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "ci-bot-login"}},
		pt, dat,
	} {
		g.Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
	}
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	for _, obj := range []client.Object{pt, dat} {
		g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj))).To(BeTrue(), "%s is gone", obj.GetName())
	}
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty(), "its token revoked itself")

	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: e.ns}, ns)).To(Succeed())
	ns.Spec.Finalizers = nil
	g.Expect(k8sClient.SubResource("finalize").Update(ctx, ns)).To(Succeed())
	g.Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Name: e.ns}, &corev1.Namespace{}))
	}).WithTimeout(testenv.Wait).Should(BeTrue(), "the namespace is gone")
}
