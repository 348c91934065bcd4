package controllers

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// issuerOutcome is what an issuer's status should settle on.
type issuerOutcome struct {
	ready   metav1.ConditionStatus
	reason  string
	message string
	awxAPI  tokensv1alpha1.AWXAPI
	kstatus kstatus.Status
}

func TestIssuerReconciler_ReportsHealth(t *testing.T) {
	e := newDATEnv(t, nil)
	controller := awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorController})
	gateway := awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	e.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad-key", Namespace: e.ns},
		StringData: map[string]string{"secret": "clé-non-ascii"}})
	e.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "typo", Namespace: e.ns},
		StringData: map[string]string{"login": dhAdminLogin, "password": "not-the-password"}})
	awxIssuer := func(name, url string, api tokensv1alpha1.AWXAPI) {
		e.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
			Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: url, API: api}}})
	}
	awxIssuer("awx-auto", controller.URL(), tokensv1alpha1.AWXAPIAuto)
	awxIssuer("aap-auto", gateway.URL(), tokensv1alpha1.AWXAPIAuto)
	awxIssuer("aap-on-awx", controller.URL(), tokensv1alpha1.AWXAPIGateway)
	awxIssuer("unreachable", "http://127.0.0.1:1", tokensv1alpha1.AWXAPIAuto)
	offline := func(name, secret string) {
		e.issuer(name, tokensv1alpha1.DeviceHiveIssuer{Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: secret, Key: "secret"}}, nil)
	}
	offline("no-secret", "absent")
	offline("undecodable-key", "bad-key")
	e.issuer("refused-login", tokensv1alpha1.DeviceHiveIssuer{Mode: tokensv1alpha1.DeviceHiveModeAPI,
		CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "typo"}}, nil)
	e.startManager()

	cases := map[string]issuerOutcome{
		"awx-auto":        {ready: metav1.ConditionTrue, message: "AWX serves the Controller token API", awxAPI: tokensv1alpha1.AWXAPIController, kstatus: kstatus.CurrentStatus},
		"aap-auto":        {ready: metav1.ConditionTrue, message: "AWX serves the Gateway token API", awxAPI: tokensv1alpha1.AWXAPIGateway, kstatus: kstatus.CurrentStatus},
		"aap-on-awx":      {ready: metav1.ConditionFalse, reason: tokensv1alpha1.APIMismatchReason, message: "no AAP gateway API at /api/gateway/v1/", kstatus: kstatus.FailedStatus},
		"unreachable":     {ready: metav1.ConditionFalse, reason: tokensv1alpha1.RemoteErrorReason, message: "failed to reach AWX", kstatus: kstatus.InProgressStatus},
		dhOfflineIssuer:   {ready: metav1.ConditionTrue, message: `signs DeviceHive tokens offline with the key in Secret "dh-jwt-secret"`, kstatus: kstatus.CurrentStatus},
		dhAPIIssuer:       {ready: metav1.ConditionTrue, message: `logged in to DeviceHive as "dh-admin"`, kstatus: kstatus.CurrentStatus},
		"no-secret":       {ready: metav1.ConditionFalse, reason: tokensv1alpha1.CredentialsNotFoundReason, message: `Secret "absent" of TokenIssuer "no-secret" not found`, kstatus: kstatus.InProgressStatus},
		"undecodable-key": {ready: metav1.ConditionFalse, reason: tokensv1alpha1.SigningKeyInvalidReason, message: "non-ASCII", kstatus: kstatus.FailedStatus},
		"refused-login":   {ready: metav1.ConditionFalse, reason: tokensv1alpha1.AuthenticationFailedReason, message: `fix the credentials in Secret "typo"`, kstatus: kstatus.FailedStatus},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			issuer := &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
			expectIssuer(t, issuer, want)
		})
	}
}

// expectIssuer waits until issuer's status shows want for its current spec.
func expectIssuer(t *testing.T, issuer issuerObject, want issuerOutcome) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(issuer), issuer)).To(Succeed())
		ready := meta.FindStatusCondition(issuer.GetConditions(), tokensv1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.ObservedGeneration).To(Equal(issuer.GetGeneration()))
		g.Expect(ready.Status).To(Equal(want.ready), "%+v", ready)
		if want.reason != "" {
			g.Expect(ready.Reason).To(Equal(want.reason), "%+v", ready)
		}
		g.Expect(ready.Message).To(ContainSubstring(want.message))
		g.Expect(issuer.GetIssuerStatus().AWXAPI).To(Equal(want.awxAPI))
		g.Expect(kstatusOf(g, issuer)).To(Equal(want.kstatus))
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// kstatusOf is what kstatus (kubectl wait, Flux, Argo CD's generic check) makes
// of an object.
func kstatusOf(g Gomega, obj client.Object) kstatus.Status {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	result, err := kstatus.Compute(&unstructured.Unstructured{Object: u})
	g.Expect(err).NotTo(HaveOccurred())
	return result.Status
}

func TestIssuerReconciler_ClusterTokenIssuer(t *testing.T) {
	e := newDATEnv(t, nil)
	// The test's namespace doubles as the operator's, where a ClusterTokenIssuer's
	// Secrets live.
	good := &tokensv1alpha1.ClusterTokenIssuer{ObjectMeta: metav1.ObjectMeta{GenerateName: "dh-cluster-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{URL: e.url, Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: dhSigningSecret, Key: "secret"}},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"2"}}}}
	missing := &tokensv1alpha1.ClusterTokenIssuer{ObjectMeta: metav1.ObjectMeta{GenerateName: "dh-cluster-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{URL: e.url, Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: "elsewhere", Key: "secret"}},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"2"}}}}
	e.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "bad-key", Namespace: e.ns},
		StringData: map[string]string{"secret": "clé-non-ascii"}})
	undecodable := &tokensv1alpha1.ClusterTokenIssuer{ObjectMeta: metav1.ObjectMeta{GenerateName: "dh-cluster-"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{URL: e.url, Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: "bad-key", Key: "secret"}},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"2"}}}}
	for _, issuer := range []*tokensv1alpha1.ClusterTokenIssuer{good, missing, undecodable} {
		e.create(issuer)
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, issuer) })
	}
	startIssuerManager(t, e.ns)
	expectIssuer(t, good, issuerOutcome{ready: metav1.ConditionTrue, message: "signs DeviceHive tokens offline", kstatus: kstatus.CurrentStatus})
	expectIssuer(t, missing, issuerOutcome{ready: metav1.ConditionFalse, reason: tokensv1alpha1.CredentialsNotFoundReason,
		message: `not found in namespace "` + e.ns + `"`, kstatus: kstatus.InProgressStatus})
	expectIssuer(t, undecodable, issuerOutcome{ready: metav1.ConditionFalse, reason: tokensv1alpha1.SigningKeyInvalidReason,
		message: "non-ASCII", kstatus: kstatus.FailedStatus})
}

// startIssuerManager runs the issuer controllers alone, with namespace as the
// operator's.
func startIssuerManager(t *testing.T, namespace string) {
	env := tokenEnv{t: t, ns: namespace}
	startTestManager(t, namespace, func(mgr ctrl.Manager, credentials cache.Cache) error {
		return env.issuerReconciler(env.managerDeps(mgr, TokenIssuerControllerName)).SetupWithManager(mgr, credentials)
	})
}

// Tokens use the API their issuer detected: a mint makes no detection call.
func TestPersonalTokenReconciler_UsesTheIssuersDetectedAPI(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	expectIssuer(t, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "awx"}},
		issuerOutcome{ready: metav1.ConditionTrue, message: "Controller", awxAPI: tokensv1alpha1.AWXAPIController, kstatus: kstatus.CurrentStatus})
	e.awx.ResetCalls()
	pt := e.personalToken("direct", nil)
	_, err := e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred())
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
	g.Expect(e.awx.Calls(awxtest.KindMe)).To(Equal(1), "who the credentials are")
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(1))
	g.Expect(e.awx.Calls(awxtest.KindList)).To(Equal(1), "the orphan sweep after the mint")
	g.Expect(e.awx.TotalCalls()).To(Equal(3), "no call to detect the API (GET /api/gateway/v1/me/)")
}

// An issuer whose check stalls is looked at again at the next check, whatever
// the failure: a remote system that answered 404 may be deployed since.
func TestIssuerReconciler_StalledIssuerIsCheckedAgain(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	notYet := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notYet.Close)
	e.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Name: "dh-not-deployed", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{URL: notYet.URL + "/auth/rest",
			Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: dhAdminSecret}}}})
	checker := e.issuerReconciler(e.manualDeps(k8sClient)).tokenIssuers()
	result, err := e.reconcile(checker, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "dh-not-deployed"}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.RequeueAfter).To(Equal(DefaultIssuerCheckInterval))
	expectIssuer(t, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "dh-not-deployed"}},
		issuerOutcome{ready: metav1.ConditionFalse, reason: tokensv1alpha1.RemoteRefusedReason, message: "404", kstatus: kstatus.FailedStatus})
}

// A failed issuer check does not make a healthy token unready: only a token that
// needs its issuer waits for it.
func TestPersonalTokenReconciler_HealthyTokenOutlivesAFailedIssuerCheck(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("steady", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())

	e.awx.FailNext(3) // the next check cannot reach AWX
	checker := e.issuerReconciler(e.manualDeps(k8sClient)).tokenIssuers()
	_, err = e.reconcile(checker, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "awx"}})
	g.Expect(err).To(HaveOccurred())

	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(pt), "Succeeded", "is in Secret")

	rotate(g, e.get(pt))
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred(), "waiting for the issuer is no failure")
	expectReady(g, e.get(pt), tokensv1alpha1.IssuerNotReadyReason, "RemoteAPIError")
}
