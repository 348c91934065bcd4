package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
	"github.com/tokenoperator/token-operator/internal/schedule"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// expectPairWorks asserts that the Secret of dat holds an access token DeviceHive
// accepts for exactly the actions and networks dat lists, and returns the pair.
func (e *datEnv) expectPairWorks(dat *tokensv1alpha1.DeviceAccessToken) (access, refresh string) {
	e.t.Helper()
	g := NewWithT(e.t)
	secret := e.secret(dat.Spec.Secret.Name)
	g.Expect(secret).NotTo(BeNil(), "Secret %s", dat.Spec.Secret.Name)
	access, refresh = string(secret.Data["accessToken"]), string(secret.Data["refreshToken"])
	for _, action := range dat.Spec.Actions {
		for _, network := range dat.Spec.NetworkIDs {
			g.Expect(e.dh.Check(access, string(action), network, "7")).To(Succeed(), "%s on network %s", action, network)
		}
	}
	g.Expect(e.dh.Check(access, "CreateDeviceCommand", dat.Spec.NetworkIDs[0], "7")).NotTo(Succeed(), "an action it was not given")
	g.Expect(e.dh.Check(access, string(dat.Spec.Actions[0]), "2", "7")).NotTo(Succeed(), "a network it was not given")
	return access, refresh
}

// expectRefreshWorks trades the refresh token for an access token at
// /token/refresh, which carries the same rights.
func (e *datEnv) expectRefreshWorks(dat *tokensv1alpha1.DeviceAccessToken, refresh string) {
	e.t.Helper()
	g := NewWithT(e.t)
	api, err := devicehive.New(devicehive.Config{URL: e.dh.URL()})
	g.Expect(err).NotTo(HaveOccurred())
	access, _, err := api.Refresh(ctx, devicehive.Secret(refresh))
	g.Expect(err).NotTo(HaveOccurred())
	rememberDeviceHiveValues(access.Reveal())
	g.Expect(e.dh.Check(access.Reveal(), string(dat.Spec.Actions[0]), dat.Spec.NetworkIDs[0], "7")).To(Succeed())
	g.Expect(e.dh.Check(access.Reveal(), "CreateDeviceCommand", dat.Spec.NetworkIDs[0], "7")).NotTo(Succeed())
}

func expectNoAbnormalConditions(g Gomega, dat *tokensv1alpha1.DeviceAccessToken) {
	for _, abnormal := range []string{tokensv1alpha1.ReconcilingCondition, tokensv1alpha1.StalledCondition, tokensv1alpha1.IssuingCondition} {
		g.Expect(meta.FindStatusCondition(dat.Status.Conditions, abnormal)).To(BeNil(), "kstatus: %s is absent once Ready", abnormal)
	}
}

func TestDeviceAccessTokenReconciler_APIModeIssuesAWorkingPair(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	e.waitIssuerReady(dhAPIIssuer)
	e.dh.ResetCalls()
	dat := e.waitReady(e.deviceAccessToken("api", dhAPIIssuer, nil))

	_, refresh := e.expectPairWorks(dat)
	e.expectRefreshWorks(dat, refresh)
	g.Expect(dat.Status.Revision).To(Equal(int64(1)))
	g.Expect(dat.Status.SecretName).To(Equal("api-dh"))
	g.Expect(dat.Status.RenewalTime).NotTo(BeNil())
	expectNoAbnormalConditions(g, dat)
	g.Expect(e.dh.Calls(dhtest.KindLogin)).To(Equal(1))
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(1))
}

func TestDeviceAccessTokenReconciler_OfflineModeIssuesAWorkingPairWithoutRemoteCalls(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	e.waitIssuerReady(dhAPIIssuer) // its check logs in; the offline token calls nothing
	e.dh.ResetCalls()
	dat := e.waitReady(e.deviceAccessToken("offline", dhOfflineIssuer, nil))

	g.Expect(e.dh.TotalCalls()).To(BeZero(), "offline minting calls nothing")
	_, refresh := e.expectPairWorks(dat)
	e.expectRefreshWorks(dat, refresh)
	g.Expect(dat.Status.Revision).To(Equal(int64(1)))
	expectNoAbnormalConditions(g, dat)
}

func TestDeviceAccessTokenReconciler_SecretKeysAndExpiries(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("keys", dhOfflineIssuer, func(dat *tokensv1alpha1.DeviceAccessToken) {
		dat.Spec.AccessTokenLifetime = metav1.Duration{Duration: 10 * time.Minute}
		dat.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 2 * time.Hour}
		dat.Spec.Secret.Labels = map[string]string{"team": "iot"}
		dat.Spec.Secret.Annotations = map[string]string{"reloader.stakater.com/match": "true"}
	}))

	secret := e.secret("keys-dh")
	g.Expect(secret.Data).To(HaveLen(4))
	g.Expect(secret.Data).To(HaveKey("accessToken"))
	g.Expect(secret.Data).To(HaveKey("refreshToken"))
	accessExpires, err := time.Parse(time.RFC3339, string(secret.Data["accessTokenExpiresAt"]))
	g.Expect(err).NotTo(HaveOccurred())
	refreshExpires, err := time.Parse(time.RFC3339, string(secret.Data["refreshTokenExpiresAt"]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(accessExpires).To(BeTemporally("==", dat.Status.ExpiresAt.Time))
	g.Expect(refreshExpires).To(BeTemporally("==", dat.Status.RefreshTokenExpiresAt.Time))
	g.Expect(dat.Status.ExpiresAt.Sub(dat.Status.IssuedAt.Time)).To(Equal(10 * time.Minute))
	g.Expect(dat.Status.RefreshTokenExpiresAt.Sub(dat.Status.IssuedAt.Time)).To(Equal(2 * time.Hour))

	access, err := devicehive.DecodeUnverified(string(secret.Data["accessToken"]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(access.ExpiresAt).To(BeTemporally("==", accessExpires), "the Secret states the token's own expiry")
	g.Expect(access.Type).To(Equal(devicehive.AccessTokenType))
	refresh, err := devicehive.DecodeUnverified(string(secret.Data["refreshToken"]))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(refresh.ExpiresAt).To(BeTemporally("==", refreshExpires))
	g.Expect(refresh.Type).To(Equal(devicehive.RefreshTokenType))

	g.Expect(secret.Labels).To(HaveKeyWithValue(tokensv1alpha1.ManagedByLabel, tokensv1alpha1.ManagedByValue))
	g.Expect(secret.Labels).To(HaveKeyWithValue("team", "iot"))
	g.Expect(secret.Annotations).To(HaveKeyWithValue("reloader.stakater.com/match", "true"))
	g.Expect(secret.Annotations).To(HaveKeyWithValue(tokensv1alpha1.TokenHashAnnotation, hashOf(secret.Data["accessToken"])))
	g.Expect(metav1.IsControlledBy(secret, dat)).To(BeTrue(), "the DeviceAccessToken owns its Secret")
	g.Expect(dat.Finalizers).To(BeEmpty(), "nothing to revoke, so no finalizer")
}

func TestDeviceAccessTokenReconciler_RenewsBeforeExpiry(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newDATEnv(t, clk)
	r := e.manualReconciler(k8sClient)
	dat := e.deviceAccessToken("renewing", dhAPIIssuer, func(dat *tokensv1alpha1.DeviceAccessToken) {
		dat.Spec.AccessTokenLifetime = metav1.Duration{Duration: time.Minute}
		dat.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 10 * time.Minute}
	})
	result, err := e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	first := e.get(dat)
	// A third of a minute before expiry, 60s - 19.8s, in the whole seconds status
	// keeps, less this token's share of the jitter that spreads renewals.
	renewAfter := 40*time.Second - schedule.Jitter(string(first.UID), 40*time.Second)
	g.Expect(result.RequeueAfter).To(Equal(renewAfter), "next look at the renewal time")
	g.Expect(first.Status.ExpiresAt.Time).To(BeTemporally("==", clk.Now().Add(time.Minute)))
	// Status times hold whole seconds.
	g.Expect(first.Status.RenewalTime.Time).To(BeTemporally("==", clk.Now().Add(renewAfter)))
	oldAccess, _ := e.expectPairWorks(first)

	clk.Step(30 * time.Second)
	result, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(1)), "not renewed before its time")
	g.Expect(result.RequeueAfter).To(Equal(renewAfter - 30*time.Second))

	clk.Step(11 * time.Second)
	result, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	second := e.get(dat)
	g.Expect(second.Status.Revision).To(Equal(int64(2)))
	g.Expect(second.Status.IssuedAt.Time).To(BeTemporally("==", clk.Now()))
	g.Expect(second.Status.ExpiresAt.Time).To(BeTemporally("<", first.Status.ExpiresAt.Add(time.Minute)))
	g.Expect(result.RequeueAfter).To(Equal(renewAfter))
	newAccess, _ := e.expectPairWorks(second)
	g.Expect(newAccess).NotTo(Equal(oldAccess))
	g.Expect(e.dh.Check(oldAccess, "GetDevice", "1", "7")).To(Succeed(), "the previous pair lives on until it expires")

	clk.Step(20 * time.Second) // past the first pair's expiry, before the second's renewal
	_, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.dh.Check(oldAccess, "GetDevice", "1", "7")).To(MatchError(ContainSubstring("expired")))
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(2)))
	e.expectPairWorks(second)
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(2))
}

func TestDeviceAccessTokenReconciler_RightsChangeMintsANewPairAtOnce(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("widening", dhAPIIssuer, nil))
	oldAccess, _ := e.expectPairWorks(dat)

	patch := client.MergeFrom(dat.DeepCopy())
	dat.Spec.Actions = append(dat.Spec.Actions, "GetDeviceCommand")
	dat.Spec.NetworkIDs = []string{"1", "4"}
	g.Expect(k8sClient.Patch(ctx, dat, patch)).To(Succeed())

	g.Eventually(func() int64 { return e.get(dat).Status.Revision }).WithTimeout(testenv.Wait).Should(Equal(int64(2)))
	changed := e.waitReady(dat)
	e.expectPairWorks(changed)
	g.Expect(e.dh.Check(oldAccess, "GetDeviceCommand", "1", "7")).NotTo(Succeed(), "the old pair keeps its old rights")
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(2))

	g.Eventually(func(g Gomega) {
		var list eventsv1.EventList
		g.Expect(k8sClient.List(ctx, &list, client.InNamespace(e.ns))).To(Succeed())
		var notes []string
		for _, ev := range list.Items {
			if ev.Reason == tokensv1alpha1.RotatedReason && ev.Regarding.Name == dat.Name {
				notes = append(notes, ev.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("DeviceHive cannot revoke tokens")))
	}).WithTimeout(testenv.Wait).Should(Succeed())
}

func TestDeviceAccessTokenReconciler_RotateAnnotation(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("manual", dhOfflineIssuer, nil))
	e.expectPairWorks(dat)

	patch := client.MergeFrom(dat.DeepCopy())
	dat.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "2026-11-25T10:00:00Z"}
	g.Expect(k8sClient.Patch(ctx, dat, patch)).To(Succeed())

	g.Eventually(func() int64 { return e.get(dat).Status.Revision }).WithTimeout(testenv.Wait).Should(Equal(int64(2)))
	rotated := e.waitReady(dat)
	g.Expect(rotated.Status.LastHandledRotateAt).To(Equal("2026-11-25T10:00:00Z"))
	e.expectPairWorks(rotated)
}

func TestDeviceAccessTokenReconciler_SecretDeletedMintsAnew(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("lost", dhOfflineIssuer, nil))
	e.expectPairWorks(dat)

	g.Expect(k8sClient.Delete(ctx, e.secret("lost-dh"))).To(Succeed())
	g.Eventually(func() int64 { return e.get(dat).Status.Revision }).WithTimeout(testenv.Wait).Should(Equal(int64(2)))
	e.expectPairWorks(e.waitReady(dat))
}

func TestDeviceAccessTokenReconciler_ClusterTokenIssuerReadsTheOperatorNamespace(t *testing.T) {
	e := newDATEnv(t, nil)
	cti := &tokensv1alpha1.ClusterTokenIssuer{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "dh-cluster-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
			URL: e.url, Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: dhSigningSecret, Key: "secret"},
		}, Policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"2"}}},
	}
	e.create(cti)
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, cti) })
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("clustered", "", func(dat *tokensv1alpha1.DeviceAccessToken) {
		dat.Spec.IssuerRef = tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.ClusterTokenIssuerKind, Name: cti.Name}
	}))
	e.expectPairWorks(dat)
}

func TestDeviceAccessTokenReconciler_PolicyRefusesBeforeAnyRemoteCall(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.issuer("dh-strict", tokensv1alpha1.DeviceHiveIssuer{
		Mode:                 tokensv1alpha1.DeviceHiveModeAPI,
		CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: dhAdminSecret},
	}, &tokensv1alpha1.IssuerPolicy{
		AllowedActions:           []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
		AllowedUserIDs:           []string{"2"},
		AllowedNetworkIDs:        []string{"1", "3"},
		AllowedDeviceTypeIDs:     []string{"7"},
		AllowWildcardDeviceTypes: ptr.To(false),
		MaxAccessTokenLifetime:   &metav1.Duration{Duration: 10 * time.Minute},
		MaxRefreshTokenLifetime:  &metav1.Duration{Duration: time.Hour},
	})
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx", Namespace: e.ns},
		Spec:       tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: "http://127.0.0.1:1"}},
	})
	e.startManager()
	e.waitIssuerReady(dhAPIIssuer)
	e.waitIssuerReady("dh-strict")
	e.dh.ResetCalls()
	strict := func(mutate func(*tokensv1alpha1.DeviceAccessToken)) func(*tokensv1alpha1.DeviceAccessToken) {
		return func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.DeviceTypeIDs = []string{"7"}
			dat.Spec.AccessTokenLifetime = metav1.Duration{Duration: 5 * time.Minute}
			dat.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 30 * time.Minute}
			mutate(dat)
		}
	}
	cases := []struct {
		name, issuer string
		mutate       func(*tokensv1alpha1.DeviceAccessToken)
		reason       string
		message      string
	}{
		{"wildcard network", dhAPIIssuer, func(dat *tokensv1alpha1.DeviceAccessToken) { dat.Spec.NetworkIDs = []string{"*"} },
			tokensv1alpha1.PolicyViolationReason,
			`spec.networkIds: ["*"] is not allowed by TokenIssuer "dh-api" (policy.allowWildcardNetworks is not true)`},
		{"action outside allowedActions", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDevice", "ManageToken"}
		}), tokensv1alpha1.PolicyViolationReason, `spec.actions: "ManageToken" is not allowed by TokenIssuer "dh-strict"`},
		{"access lifetime above the max", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.AccessTokenLifetime = metav1.Duration{Duration: 20 * time.Minute}
		}), tokensv1alpha1.PolicyViolationReason, "spec.accessTokenLifetime: 20m0s is longer than the 10m0s allowed"},
		{"refresh lifetime above the max", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 2 * time.Hour}
		}), tokensv1alpha1.PolicyViolationReason, "spec.refreshTokenLifetime: 2h0m0s is longer than the 1h0m0s allowed"},
		{"wildcard device types where refused", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.DeviceTypeIDs = []string{"*"}
		}), tokensv1alpha1.PolicyViolationReason, `spec.deviceTypeIds: ["*"] is not allowed by TokenIssuer "dh-strict"`},
		{"another user, the administrator", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) { dat.Spec.UserID = dhAdminID }),
			tokensv1alpha1.PolicyViolationReason, `spec.userId: 1 is not allowed by TokenIssuer "dh-strict"`},
		{"a network not allowed", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) { dat.Spec.NetworkIDs = []string{"1", "5"} }),
			tokensv1alpha1.PolicyViolationReason, `spec.networkIds: "5" is not allowed by TokenIssuer "dh-strict"`},
		{"a device type not allowed", "dh-strict", strict(func(dat *tokensv1alpha1.DeviceAccessToken) { dat.Spec.DeviceTypeIDs = []string{"8"} }),
			tokensv1alpha1.PolicyViolationReason, `spec.deviceTypeIds: "8" is not allowed by TokenIssuer "dh-strict"`},
		{"a privileged action that changes the user", dhAPIIssuer, func(dat *tokensv1alpha1.DeviceAccessToken) {
			dat.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDevice", "UpdateCurrentUser"}
		}, tokensv1alpha1.PolicyViolationReason, `spec.actions: "UpdateCurrentUser" is privileged`},
		{"an AWX issuer", "awx", nil, tokensv1alpha1.IssuerMismatchReason, `TokenIssuer "awx" has no deviceHive block`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dat := e.deviceAccessToken("refused-"+string(rune('a'+i)), tc.issuer, tc.mutate)
			ready := e.waitStalled(dat, tc.reason)
			NewWithT(t).Expect(ready.Message).To(ContainSubstring(tc.message))
			NewWithT(t).Expect(e.secret(dat.Spec.Secret.Name)).To(BeNil())
		})
	}
	g.Expect(e.dh.TotalCalls()).To(BeZero(), "refused before any call")

	// The strict issuer mints what it allows.
	e.expectPairWorks(e.waitReady(e.deviceAccessToken("allowed", "dh-strict", strict(func(*tokensv1alpha1.DeviceAccessToken) {}))))
}

func TestDeviceAccessTokenReconciler_LockedUserStalls(t *testing.T) {
	// A locked issuer user fails the issuer's own check: the token waits for its
	// issuer and says why.
	cases := []struct {
		name    string
		user    int64
		reason  string
		message string
	}{
		{"the token's user", dhClientUserID, tokensv1alpha1.AuthenticationFailedReason, "the DeviceHive user of spec.userId is locked or disabled"},
		{"the issuer's user", dhAdminID, tokensv1alpha1.IssuerNotReadyReason, `the DeviceHive user of credentials Secret "dh-admin" of TokenIssuer "dh-api" is locked or disabled`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newDATEnv(t, nil)
			e.dh.SetUserActive(tc.user, false)
			e.startManager()
			dat := e.deviceAccessToken("locked", dhAPIIssuer, nil)
			var ready metav1.Condition
			g.Eventually(func(g Gomega) {
				r := meta.FindStatusCondition(e.get(dat).Status.Conditions, tokensv1alpha1.ReadyCondition)
				g.Expect(r).NotTo(BeNil())
				g.Expect(r.Reason).To(Equal(tc.reason), "%+v", r)
				g.Expect(r.Message).To(ContainSubstring(tc.message))
				ready = *r
			}).WithTimeout(testenv.Wait).Should(Succeed())
			g.Expect(ready.Message).To(ContainSubstring("User is locked or disabled"))
			g.Expect(e.secret("locked-dh")).To(BeNil())
		})
	}
}

func TestDeviceAccessTokenReconciler_CredentialsWithoutManageTokenStall(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	expires := time.Now().Add(time.Hour)
	access := e.dh.MintFor(dhtest.Grant{UserID: dhAdminID, ActionIDs: []int{3}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}, ExpiresAt: expires})
	refresh := e.dh.MintFor(dhtest.Grant{UserID: dhAdminID, ActionIDs: []int{3}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}, ExpiresAt: expires, Refresh: true})
	rememberDeviceHiveValues(access, refresh)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "dh-reader", Namespace: e.ns},
		StringData: map[string]string{"accessToken": access, "refreshToken": refresh},
	})
	e.issuer("dh-weak", tokensv1alpha1.DeviceHiveIssuer{
		Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "dh-reader"},
	}, nil)
	e.startManager()

	ready := e.waitStalled(e.deviceAccessToken("weak", "dh-weak", nil), tokensv1alpha1.AuthenticationFailedReason)
	g.Expect(ready.Message).To(ContainSubstring(`the credentials in Secret "dh-reader" of TokenIssuer "dh-weak" need the ManageToken action`))
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(1))
	g.Expect(e.secret("weak-dh")).To(BeNil())
}

func TestDeviceAccessTokenReconciler_ExpiredIssuerTokenIsRefreshed(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	grant := dhtest.Grant{UserID: dhAdminID, ActionIDs: []int{15}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}
	expired, refreshGrant := grant, grant
	expired.ExpiresAt = time.Now().Add(-time.Minute)
	refreshGrant.ExpiresAt, refreshGrant.Refresh = time.Now().Add(time.Hour), true
	access, refresh := e.dh.MintFor(expired), e.dh.MintFor(refreshGrant)
	rememberDeviceHiveValues(access, refresh)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "dh-pair", Namespace: e.ns},
		StringData: map[string]string{"accessToken": access, "refreshToken": refresh},
	})
	e.issuer("dh-jwt", tokensv1alpha1.DeviceHiveIssuer{
		Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "dh-pair"},
	}, nil)
	e.startManager()
	e.waitIssuerReady("dh-jwt") // the check refreshed the issuer's access token
	e.dh.ResetCalls()

	e.expectPairWorks(e.waitReady(e.deviceAccessToken("refreshed", "dh-jwt", nil)))
	g.Expect(e.dh.Calls(dhtest.KindRefresh)).To(Equal(1))
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(1), "the expired token was not even tried")
}

func TestDeviceAccessTokenReconciler_ServerIgnoringRefreshExpirationStalls(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	// DeviceHive before 3.5.0 ignores refreshExpiration: the refresh token gets the
	// access token's expiry, which would read as a lifetime change at every pass.
	old := recordingProxy(t, e.dh.URL(), func(body map[string]any) { delete(body, "refreshExpiration") })
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "dh-345", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
			URL: old, Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: dhAdminSecret},
		}},
	})
	e.startManager()

	ready := e.waitStalled(e.deviceAccessToken("old-server", "dh-345", nil), tokensv1alpha1.RemoteRefusedReason)
	g.Expect(ready.Message).To(ContainSubstring("DeviceHive before 3.5.0 ignores refreshExpiration"))
	g.Expect(e.secret("old-server-dh")).To(BeNil(), "the pair was discarded")
	g.Consistently(func() int { return e.dh.Calls(dhtest.KindCreate) }).WithTimeout(time.Second).Should(Equal(1), "no mint loop")

	// With equal lifetimes the old server grants what is asked.
	e.expectPairWorks(e.waitReady(e.deviceAccessToken("equal-lifetimes", "dh-345", func(dat *tokensv1alpha1.DeviceAccessToken) {
		dat.Spec.RefreshTokenLifetime = dat.Spec.AccessTokenLifetime
	})))
}

func TestDeviceAccessTokenReconciler_IssuerTokenRefusedIsRefreshedOnce(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	grant := dhtest.Grant{UserID: dhAdminID, ActionIDs: []int{15}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}
	stale, refreshGrant := grant, grant
	stale.ExpiresAt = time.Now().Add(-time.Minute)
	refreshGrant.ExpiresAt, refreshGrant.Refresh = time.Now().Add(time.Hour), true
	access, refresh := e.dh.MintFor(stale), e.dh.MintFor(refreshGrant)
	rememberDeviceHiveValues(access, refresh)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "dh-pair", Namespace: e.ns},
		StringData: map[string]string{"accessToken": access, "refreshToken": refresh},
	})
	e.issuer("dh-jwt", tokensv1alpha1.DeviceHiveIssuer{
		Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "dh-pair"},
	}, nil)
	e.checkIssuer("dh-jwt")
	e.dh.ResetCalls()
	// The operator's clock runs two minutes behind the server's: the token looks
	// alive, and only the server's refusal tells it has expired.
	r := e.manualReconciler(k8sClient)
	r.Clock = clocktesting.NewFakeClock(time.Now().Add(-2 * time.Minute))
	dat := e.deviceAccessToken("refused", "dh-jwt", nil)

	_, err := e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	e.expectPairWorks(e.get(dat))
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(2), "refused, then retried once")
	g.Expect(e.dh.Calls(dhtest.KindRefresh)).To(Equal(1))
}

func TestDeviceAccessTokenReconciler_TransientFailuresAreRetriedAndCounted(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	r := e.manualReconciler(k8sClient)
	dat := e.deviceAccessToken("flaky", dhAPIIssuer, nil)

	e.dh.FailNext(1)
	_, err := e.reconcile(r, dat)
	g.Expect(err).To(HaveOccurred(), "a transient failure goes back to the rate limiter")
	failed := e.get(dat)
	g.Expect(failed.Status.FailedIssuanceAttempts).To(Equal(int32(1)))
	g.Expect(failed.Status.LastFailureTime).NotTo(BeNil())
	ready := meta.FindStatusCondition(failed.Status.Conditions, tokensv1alpha1.ReadyCondition)
	g.Expect(ready.Reason).To(Equal(tokensv1alpha1.RemoteErrorReason))
	g.Expect(meta.IsStatusConditionTrue(failed.Status.Conditions, tokensv1alpha1.ReconcilingCondition)).To(BeTrue())
	g.Expect(meta.IsStatusConditionTrue(failed.Status.Conditions, tokensv1alpha1.IssuingCondition)).To(BeTrue())

	// The pair is minted but its reply is lost: it just expires, and the retry mints another.
	e.dh.LoseNextReply(dhtest.KindCreate)
	_, err = e.reconcile(r, dat)
	g.Expect(err).To(HaveOccurred())
	g.Expect(e.get(dat).Status.FailedIssuanceAttempts).To(Equal(int32(2)))

	_, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	recovered := e.get(dat)
	g.Expect(recovered.Status.FailedIssuanceAttempts).To(BeZero())
	g.Expect(recovered.Status.Revision).To(Equal(int64(1)))
	expectNoAbnormalConditions(g, recovered)
	e.expectPairWorks(recovered)
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(2))
}

func TestDeviceAccessTokenReconciler_ForeignSecretIsNotTakenOver(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "taken-dh", Namespace: e.ns},
		StringData: map[string]string{"note": "someone else's"},
	})
	e.startManager()
	ready := e.waitStalled(e.deviceAccessToken("taken", dhOfflineIssuer, nil), tokensv1alpha1.SecretConflictReason)
	g.Expect(ready.Message).To(ContainSubstring(`Secret "taken-dh" exists and is not managed by this DeviceAccessToken`))
	g.Expect(e.secret("taken-dh").Data).To(Equal(map[string][]byte{"note": []byte("someone else's")}))
}

func TestDeviceAccessTokenReconciler_CrashBetweenMintAndSecretWrite(t *testing.T) {
	for _, issuer := range []string{dhAPIIssuer, dhOfflineIssuer} {
		t.Run(issuer, func(t *testing.T) {
			g := NewWithT(t)
			e := newDATEnv(t, nil)
			var dead atomic.Bool
			r := e.manualReconciler(dieAt(false, func(obj client.Object) bool {
				secret, ok := obj.(*corev1.Secret)
				return ok && secret.Name == "crashy-dh"
			}, &dead))
			dat := e.deviceAccessToken("crashy", issuer, nil)

			_, err := e.reconcile(r, dat)
			g.Expect(err).To(HaveOccurred(), "the first pass is interrupted")
			g.Expect(dead.Load()).To(BeTrue(), "the crash point was reached")
			g.Expect(e.secret("crashy-dh")).To(BeNil())
			issuing := meta.FindStatusCondition(e.get(dat).Status.Conditions, tokensv1alpha1.IssuingCondition)
			g.Expect(issuing).NotTo(BeNil(), "the intent was recorded before the mint")
			g.Expect(issuing.Reason).To(Equal(tokensv1alpha1.DoesNotExistReason))

			// A restarted operator mints again; the lost pair just expires.
			e.startManager()
			ready := e.waitReady(dat)
			g.Expect(ready.Status.Revision).To(Equal(int64(1)))
			expectNoAbnormalConditions(g, ready)
			e.expectPairWorks(ready)
			if issuer == dhAPIIssuer {
				g.Expect(e.dh.Calls(dhtest.KindCreate)).To(Equal(2))
			}
		})
	}
}

func TestDeviceAccessTokenReconciler_NoOpResyncWritesNothing(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	stop := e.startManager()
	dat := e.waitReady(e.deviceAccessToken("quiet", dhAPIIssuer, nil))
	stop()

	var writes atomic.Int32
	counting := countingClient(&writes)
	e.dh.ResetCalls()

	result, err := e.reconcile(e.manualReconciler(counting), dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(writes.Load()).To(BeZero(), "no write to the Kubernetes API")
	g.Expect(e.dh.TotalCalls()).To(BeZero(), "no call to DeviceHive")
	g.Expect(result.RequeueAfter).To(BeNumerically("~", time.Until(dat.Status.RenewalTime.Time), 5*time.Second),
		"next look at the renewal time")
}

func TestDeviceAccessTokenReconciler_FixedIssuerCredentialsWakeTheToken(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "dh-admin-typo", Namespace: e.ns},
		StringData: map[string]string{"login": dhAdminLogin, "password": "not-the-password"},
	})
	e.issuer("dh-api-typo", tokensv1alpha1.DeviceHiveIssuer{
		Mode:                 tokensv1alpha1.DeviceHiveModeAPI,
		CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "dh-admin-typo"},
	}, nil)
	e.startManager()
	dat := e.deviceAccessToken("typo", "dh-api-typo", nil)
	g.Eventually(func(g Gomega) {
		ready := meta.FindStatusCondition(e.get(dat).Status.Conditions, tokensv1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Reason).To(Equal(tokensv1alpha1.IssuerNotReadyReason))
		g.Expect(ready.Message).To(ContainSubstring("AuthenticationFailed"))
	}).WithTimeout(testenv.Wait).Should(Succeed())
	g.Expect(e.dh.Calls(dhtest.KindCreate)).To(BeZero(), "nothing is tried while the issuer is not Ready")

	// The issuer's check stalls until its Secret is fixed; fixing it wakes the
	// issuer, whose turning Ready wakes the token.
	login := e.secret("dh-admin-typo")
	g.Expect(login.Labels).To(HaveKeyWithValue(tokensv1alpha1.CredentialsLabel, "true"))
	login.Data["password"] = []byte(dhAdminPassword)
	g.Expect(k8sClient.Update(ctx, login)).To(Succeed())
	e.waitReady(dat)
}

// staleReader answers reads of dat with snapshot, as a cache that has not seen the
// latest change would, and passes every other call to the API server.
func staleReader(snapshot *tokensv1alpha1.DeviceAccessToken) client.Client {
	return interceptor.NewClient(k8sClient.(client.WithWatch), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if d, ok := obj.(*tokensv1alpha1.DeviceAccessToken); ok && key == client.ObjectKeyFromObject(snapshot) {
				snapshot.DeepCopyInto(d)
				return nil
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
}

// A pair cannot be revoked, so none may be minted from a spec the user has
// already changed: not even when the intent to mint, recorded before a crash,
// equals the one the stale object calls for, so that writing it again writes
// nothing an optimistic lock could refuse.
func TestDeviceAccessTokenReconciler_StaleCacheNeverMints(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newDATEnv(t, clk)
	dat := e.deviceAccessToken("stale", dhOfflineIssuer, nil)
	_, err := e.reconcile(e.manualReconciler(k8sClient), dat)
	g.Expect(err).NotTo(HaveOccurred())
	held := e.secret("stale-dh").Annotations[tokensv1alpha1.TokenHashAnnotation]

	// A rotation whose process dies after recording the intent.
	current := e.get(dat)
	patch := client.MergeFrom(current.DeepCopy())
	current.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "r1"}
	g.Expect(k8sClient.Patch(ctx, current, patch)).To(Succeed())
	clk.Step(time.Minute) // a pair signed in another second differs from the held one
	var dead atomic.Bool
	crashing := e.manualReconciler(dieAt(false, func(obj client.Object) bool {
		secret, ok := obj.(*corev1.Secret)
		return ok && secret.Name == "stale-dh"
	}, &dead))
	_, _ = e.reconcile(crashing, dat)
	g.Expect(dead.Load()).To(BeTrue(), "the crash point was reached")
	g.Expect(meta.FindStatusCondition(e.get(dat).Status.Conditions, tokensv1alpha1.IssuingCondition)).NotTo(BeNil())

	// The user narrows the rights; the restarted process still reads the object
	// as it was.
	snapshot := e.get(dat)
	current = e.get(dat)
	patch = client.MergeFrom(current.DeepCopy())
	current.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDevice"}
	g.Expect(k8sClient.Patch(ctx, current, patch)).To(Succeed())
	clk.Step(time.Minute)

	stale := &DeviceAccessTokenReconciler{TokenDeps: e.deps(staleReader(snapshot), k8sClient, capturingRecorder{}), OperatorNamespace: e.ns}
	_, err = e.reconcile(stale, dat)
	g.Expect(err).NotTo(HaveOccurred(), "a stale cache is retried quietly")
	g.Expect(e.secret("stale-dh").Annotations[tokensv1alpha1.TokenHashAnnotation]).To(Equal(held), "no pair minted from the stale spec")
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(1)))
}

// A pair signed with a key the issuer no longer has would be refused by
// DeviceHive: a new signing key mints a new pair at once.
func TestDeviceAccessTokenReconciler_ANewSigningKeyMintsANewPairAtOnce(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	e.startManager()
	dat := e.waitReady(e.deviceAccessToken("rekeyed", dhOfflineIssuer, nil))
	g.Expect(dat.Status.MintedBy).NotTo(BeNil())
	g.Expect(dat.Status.MintedBy.Mode).To(Equal(tokensv1alpha1.DeviceHiveModeOffline))
	firstKey := dat.Status.MintedBy.SigningKeyVersion

	// Another label on the key's Secret changes its version, not the key.
	key := &corev1.Secret{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: dhSigningSecret}, key)).To(Succeed())
	key.Labels["team"] = "iot"
	g.Expect(k8sClient.Update(ctx, key)).To(Succeed())
	g.Eventually(func() string { return e.get(dat).Status.MintedBy.SigningKeyVersion }).WithTimeout(testenv.Wait).
		Should(Equal(key.ResourceVersion), "the pair still verifies: its record moves on")
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(1)), "no new pair for a label")
	firstKey = key.ResourceVersion

	const newKey = "bmV3IHRva2VuLW9wZXJhdG9yIHRlc3QgSldUIHNlY3JldCBmb3IgRGV2aWNlSGl2ZQ=="
	rememberDeviceHiveValues(newKey)
	key.Data = map[string][]byte{"secret": []byte(newKey)}
	g.Expect(k8sClient.Update(ctx, key)).To(Succeed())

	g.Eventually(func(g Gomega) {
		got := e.get(dat)
		g.Expect(got.Status.Revision).To(Equal(int64(2)))
		g.Expect(got.Status.MintedBy.SigningKeyVersion).NotTo(Equal(firstKey))
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
	signer, err := devicehive.NewSigner(newKey)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = signer.Parse(string(e.secret("rekeyed-dh").Data[deviceAccessTokenKey]))
	g.Expect(err).NotTo(HaveOccurred(), "signed with the new key")
}

// A DeviceHive pair carries no id: a rotation in the same second as the mint
// must still give a new pair, not the same bytes again.
func TestDeviceAccessTokenReconciler_RotationInTheSameSecondGivesANewPair(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	e := newDATEnv(t, clk)
	r := e.manualReconciler(k8sClient)
	dat := e.deviceAccessToken("same-second", dhOfflineIssuer, nil)
	_, err := e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	first := e.secret("same-second-dh").Data["accessToken"]

	current := e.get(dat)
	current.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "now"}
	g.Expect(k8sClient.Update(ctx, current)).To(Succeed())
	_, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(2)))
	g.Expect(e.secret("same-second-dh").Data["accessToken"]).NotTo(Equal(first), "a new pair")
	e.expectPairWorks(e.get(dat))
}
