package chart

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// The operator's namespace and ServiceAccount in the RBAC tests: the chart's
// defaults for a release named token-operator.
const (
	operatorNamespace = "rbac-operator"
	serviceAccount    = "token-operator"
)

// installForRBAC installs the chart with its defaults once for the RBAC tests.
var installForRBAC sync.Once

// asServiceAccount is cfg impersonating the chart's ServiceAccount, with the
// groups a real ServiceAccount token carries.
func asServiceAccount(t *testing.T) *rest.Config {
	t.Helper()
	installForRBAC.Do(func() { install(t, operatorNamespace, mustRender(t, "token-operator", operatorNamespace)) })
	sa := rest.CopyConfig(cfg)
	sa.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + operatorNamespace + ":" + serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + operatorNamespace, "system:authenticated"},
	}
	return sa
}

// The manager runs as the chart's ServiceAccount, with leader election on, and
// takes a token of each kind through its whole life, with a consumer to
// restart: every call it makes must be one the chart's RBAC allows.
func TestRBAC_TheChartsServiceAccountRunsTheWholeLifecycle(t *testing.T) {
	g := NewWithT(t)
	logs := &testenv.LockedBuffer{}
	mgr, err := operator.NewManager(asServiceAccount(t), operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", LeaderElect: true, LeaderElectionNamespace: operatorNamespace,
		KubeAPIQPS: -1, Concurrency: 2, RemoteTimeout: 5 * time.Second, OperatorNamespace: operatorNamespace,
		IssuerCheckInterval: controllers.DefaultIssuerCheckInterval,
		Consumers:           controllers.ConsumerSettings{VolumeRefreshDelay: time.Minute, PollInterval: 100 * time.Millisecond},
		Logger:              testenv.Logger(t, logs),
	})
	g.Expect(err).NotTo(HaveOccurred())
	mctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })

	tenant := testenv.NewNamespace(t, k8sClient)
	t.Run("PersonalToken", func(t *testing.T) { personalTokenLifecycle(t, tenant) })
	t.Run("DeviceAccessToken", func(t *testing.T) { deviceAccessTokenLifecycle(t, tenant) })

	g.Eventually(func() []string { return eventReasons(operatorNamespace, true) }).WithTimeout(testenv.Wait).
		Should(ContainElement("LeaderElection"), "leader election records its event in the operator's namespace")
	g.Expect(logs.String()).NotTo(ContainSubstring("forbidden"), "the manager was refused nothing")
}

func personalTokenLifecycle(t *testing.T, ns string) {
	g := NewWithT(t)
	awx := awxtest.NewServer(t, awxtest.Options{})
	awx.AddUser(awxtest.User{Username: "ci-bot", Password: "rbac-test-password"})
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ci-bot-login"},
		StringData: map[string]string{"username": "ci-bot", "password": "rbac-test-password"}})
	create(t, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "awx"},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: awx.URL(), API: tokensv1alpha1.AWXAPIAuto}}})
	deployment(t, ns, "runner", "ci-runner-awx")
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ci-runner"},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: "ci-runner-awx"}},
		},
	}
	create(t, pt)
	waitRevision(t, pt, 1)

	rotate(t, pt)
	waitRevision(t, pt, 2)
	g.Eventually(func() int64 { return getDeployment(t, ns, "runner").Generation }).WithTimeout(testenv.Wait).
		Should(Equal(int64(2)), "the consumer is restarted")
	g.Expect(awx.LiveTokens("ci-bot")).To(HaveLen(2), "the previous token lives while the consumer rolls out")
	finishRollout(t, ns, "runner")
	g.Eventually(func() int { return len(awx.LiveTokens("ci-bot")) }).WithTimeout(testenv.Wait).Should(Equal(1))

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	waitGone(t, pt)
	g.Expect(awx.LiveTokens("ci-bot")).To(BeEmpty(), "deleting the token revokes it")
	g.Expect(eventReasons(ns, false)).To(ContainElements("Issued", "Rotated", "ConsumersRestarted", "Revoked"))
}

func deviceAccessTokenLifecycle(t *testing.T, ns string) {
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dh-jwt-secret"},
		StringData: map[string]string{"secret": "rbac-test-signing-key"}})
	create(t, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dh"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
			URL: "http://127.0.0.1:1/auth/rest", Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: "dh-jwt-secret", Key: "secret"},
		}}})
	dat := &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sensor-reader"},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef: tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "dh"},
			UserID:    2, Actions: []tokensv1alpha1.DeviceHiveAction{"GetDevice"},
			NetworkIDs: []string{"1"}, DeviceTypeIDs: []string{"*"},
			AccessTokenLifetime: metav1.Duration{Duration: 30 * time.Minute}, RefreshTokenLifetime: metav1.Duration{Duration: time.Hour},
			Secret: tokensv1alpha1.SecretTemplate{Name: "sensor-reader-dh"},
		},
	}
	create(t, dat)
	waitRevision(t, dat, 1)
	rotate(t, dat)
	waitRevision(t, dat, 2)
	NewWithT(t).Expect(k8sClient.Delete(ctx, dat)).To(Succeed())
	waitGone(t, dat)
}

func TestRBAC_TheServiceAccountMayDoOnlyWhatTheLifecycleUses(t *testing.T) {
	g := NewWithT(t)
	sa, err := client.New(asServiceAccount(t), client.Options{Scheme: k8sClient.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	tenant := testenv.NewNamespace(t, k8sClient)
	var got []string
	for scope, ns := range map[string]string{"any namespace": tenant, "operator namespace": operatorNamespace} {
		review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}
		g.Expect(sa.Create(ctx, review)).To(Succeed())
		for _, r := range review.Status.ResourceRules {
			for _, group := range r.APIGroups {
				for _, resource := range r.Resources {
					verbs := slices.Sorted(slices.Values(r.Verbs))
					got = append(got, fmt.Sprintf("%s: %s %s", scope, groupResource(group, resource), strings.Join(verbs, ",")))
				}
			}
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	for _, line := range got {
		g.Expect(line).NotTo(ContainSubstring("*"), "no wildcard verb or resource")
	}
	want, err := os.ReadFile("testdata/service-account-rules.txt")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.Join(got, "\n")+"\n").To(Equal(withoutComments(string(want))),
		"what the chart's ServiceAccount may do changed: check it is what the lifecycle needs, then update testdata/service-account-rules.txt")
}

func groupResource(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// withoutComments drops the # lines of a testdata file.
func withoutComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("failed to create %T %s: %v", obj, obj.GetName(), err)
	}
}

// tokenObject is a token of either kind.
type tokenObject interface {
	client.Object
	GetTokenStatus() *tokensv1alpha1.TokenStatus
}

func waitRevision(t *testing.T, token tokenObject, revision int64) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), token)).To(Succeed())
		g.Expect(token.GetTokenStatus().Revision).To(Equal(revision), "conditions: %+v", token.GetTokenStatus().Conditions)
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
}

func rotate(t *testing.T, token tokenObject) {
	t.Helper()
	patch := client.MergeFrom(token.DeepCopyObject().(client.Object))
	token.SetAnnotations(map[string]string{tokensv1alpha1.RotateAnnotation: "1"})
	if err := k8sClient.Patch(ctx, token, patch); err != nil {
		t.Fatalf("failed to annotate %s: %v", token.GetName(), err)
	}
}

func waitGone(t *testing.T, obj client.Object) {
	t.Helper()
	NewWithT(t).Eventually(func() bool {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		return client.IgnoreNotFound(err) == nil && err != nil
	}).WithTimeout(testenv.Wait).Should(BeTrue(), "%s is deleted", obj.GetName())
}

// deployment creates a Deployment reading secret through envFrom, as its
// controller leaves it once rolled out.
func deployment(t *testing.T, ns, name, secret string) {
	t.Helper()
	labels := map[string]string{"app": name}
	create(t, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1", EnvFrom: []corev1.EnvFromSource{
					{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}},
				}}},
			}},
		},
	})
	finishRollout(t, ns, name)
}

func getDeployment(t *testing.T, ns, name string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
		t.Fatalf("failed to read Deployment %s: %v", name, err)
	}
	return d
}

// finishRollout writes the status the Deployment controller writes once every
// replica of the current generation is updated and available.
func finishRollout(t *testing.T, ns, name string) {
	t.Helper()
	d := getDeployment(t, ns, name)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
	if err := k8sClient.Status().Update(ctx, d); err != nil {
		t.Fatalf("failed to write the status of Deployment %s: %v", name, err)
	}
}

// eventReasons are the reasons of the events in ns: those of the events.k8s.io
// API, which the controllers record, or with core, of the core API, which
// leader election records.
func eventReasons(ns string, core bool) []string {
	var reasons []string
	if core {
		var list corev1.EventList
		_ = k8sClient.List(ctx, &list, client.InNamespace(ns))
		for _, e := range list.Items {
			reasons = append(reasons, e.Reason)
		}
		return reasons
	}
	var list eventsv1.EventList
	_ = k8sClient.List(ctx, &list, client.InNamespace(ns))
	for _, e := range list.Items {
		reasons = append(reasons, e.Reason)
	}
	return reasons
}
