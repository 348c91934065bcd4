package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// ptEnv is one test's world: its own namespace, an AWX test server with the user
// ci-bot, a TokenIssuer "awx" pointing at it, and ci-bot's credentials Secret.
type ptEnv struct {
	t     *testing.T
	ns    string
	awx   *awxtest.Server
	clock *clocktesting.FakeClock // manual mode only
}

const (
	awxUser     = "ci-bot"
	awxPassword = "correct-horse-battery"
)

func newPTEnv(t *testing.T, flavor awxtest.Flavor, fake *clocktesting.FakeClock) *ptEnv {
	t.Helper()
	opts := awxtest.Options{Flavor: flavor}
	if fake != nil {
		opts.Clock = fake
	}
	e := &ptEnv{t: t, ns: newNamespace(t), awx: awxtest.NewServer(t, opts), clock: fake}
	t.Cleanup(func() { rememberTokenValues(e.awx) })
	e.awx.AddUser(awxtest.User{Username: awxUser, Password: awxPassword})
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx", Namespace: e.ns},
		Spec:       tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL(), API: tokensv1alpha1.AWXAPIAuto}},
	})
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "ci-bot-login", Namespace: e.ns},
		StringData: map[string]string{"username": awxUser, "password": awxPassword},
	})
	return e
}

func (e *ptEnv) create(obj client.Object) {
	e.t.Helper()
	if err := k8sClient.Create(ctx, obj); err != nil {
		e.t.Fatalf("failed to create %T %s: %v", obj, obj.GetName(), err)
	}
}

// personalToken creates a PersonalToken for ci-bot with read and write scopes, in
// the Secret <name>-awx, after mutate.
func (e *ptEnv) personalToken(name string, mutate func(*tokensv1alpha1.PersonalToken)) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			User:                 awxUser,
			Scopes:               []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead, tokensv1alpha1.ScopeWrite},
			Description:          "test token " + name,
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name + "-awx"}},
		},
	}
	if mutate != nil {
		mutate(pt)
	}
	e.create(pt)
	return pt
}

// startManager runs the operator's PersonalToken controller for this namespace as
// a new operator process would: its own cache, client and event recorder.
func (e *ptEnv) startManager() (stop func()) {
	return startTestManager(e.t, e.ns, func(mgr ctrl.Manager, credentials cache.Cache) error {
		var clk clock.PassiveClock = clock.RealClock{}
		if e.clock != nil {
			clk = e.clock
		}
		r := &PersonalTokenReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
			Recorder: mgr.GetEventRecorder(PersonalTokenControllerName), Clock: clk, RemoteTimeout: 5 * time.Second}
		return r.SetupWithManager(mgr, 2, credentials)
	})
}

// startTestManager starts a manager limited to namespace, with the controller
// that setup registers, and stops it when the test ends (or stop is called).
func startTestManager(t *testing.T, namespace string, setup func(ctrl.Manager, cache.Cache) error) (stop func()) {
	t.Helper()
	namespaces := map[string]cache.Config{namespace: {}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: namespaces, ByObject: OwnedSecretsOnly()},
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("failed to create a manager: %v", err)
	}
	credentials, err := NewCredentialsCache(mgr, namespaces)
	if err != nil {
		t.Fatalf("failed to create the credentials cache: %v", err)
	}
	if err := setup(mgr, credentials); err != nil {
		t.Fatalf("failed to set up the controller: %v", err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager stopped with an error: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// countingClient is the real client, counting every write it makes.
func countingClient(writes *atomic.Int32) client.Client {
	count := func() { writes.Add(1) }
	return interceptor.NewClient(k8sClient.(client.WithWatch), interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			count()
			return c.Patch(ctx, obj, p, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			count()
			return c.Delete(ctx, obj, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			count()
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			count()
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
}

// manualReconciler returns a reconciler to drive by hand with c (the real client,
// possibly wrapped to inject failures) and the env's clock.
func (e *ptEnv) manualReconciler(c client.Client) *PersonalTokenReconciler {
	var clk clock.PassiveClock = clock.RealClock{}
	if e.clock != nil {
		clk = e.clock
	}
	return &PersonalTokenReconciler{Client: c, APIReader: c, Recorder: capturingRecorder{},
		Clock: clk, RemoteTimeout: 5 * time.Second}
}

// reconcile runs one reconcile of pt by hand.
func (e *ptEnv) reconcile(r *PersonalTokenReconciler, pt *tokensv1alpha1.PersonalToken) (ctrl.Result, error) {
	return r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(pt)})
}

// get reads pt afresh from the API server.
func (e *ptEnv) get(pt *tokensv1alpha1.PersonalToken) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	out := &tokensv1alpha1.PersonalToken{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), out); err != nil {
		e.t.Fatalf("failed to read PersonalToken %s: %v", pt.Name, err)
	}
	return out
}

// waitReady waits until the controller reports pt Ready for its current generation.
func (e *ptEnv) waitReady(pt *tokensv1alpha1.PersonalToken) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	return waitTokenReady(e.t, pt)
}

// waitTokenReady waits until the controller reports token Ready for its current
// generation, and returns it as it is then.
func waitTokenReady[T tokenObject](t *testing.T, token T) T {
	t.Helper()
	got := token.DeepCopyObject().(T)
	NewWithT(t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), got)).To(Succeed())
		g.Expect(got.GetTokenStatus().ObservedGeneration).To(Equal(got.GetGeneration()))
		g.Expect(meta.IsStatusConditionTrue(got.GetConditions(), tokensv1alpha1.ReadyCondition)).To(BeTrue(),
			"conditions: %+v", got.GetConditions())
	}).WithTimeout(30 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
	return got
}

// secret reads a Secret afresh; nil when it does not exist.
func (e *ptEnv) secret(name string) *corev1.Secret {
	s := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, s); err != nil {
		return nil
	}
	return s
}

// expectOneLiveTokenInSecret asserts the invariant of the minting protocol: ci-bot
// has exactly one live token at AWX, it is pt's current token, and its Secret
// holds it.
func (e *ptEnv) expectOneLiveTokenInSecret(pt *tokensv1alpha1.PersonalToken, tokenKey string) {
	e.t.Helper()
	g := NewWithT(e.t)
	pt = e.get(pt)
	live := e.awx.LiveTokens(awxUser)
	g.Expect(live).To(HaveLen(1), "live tokens at AWX")
	g.Expect(live[0].ID).To(Equal(pt.Status.TokenID))
	secret := e.secret(pt.Spec.Secret.Name)
	g.Expect(secret).NotTo(BeNil())
	g.Expect(string(secret.Data[tokenKey])).To(Equal(live[0].Value), "the Secret holds the live token")
	g.Expect(pt.Status.PendingMint).To(BeNil())
}

// Leak detection: every token value any test server issued, checked at the end of
// the suite against every log line and event.
var (
	leakMu      sync.Mutex
	tokenValues = map[string]bool{}
	logSink     strings.Builder
	eventNotes  []string
)

func rememberTokenValues(srv *awxtest.Server) {
	leakMu.Lock()
	defer leakMu.Unlock()
	for _, v := range srv.IssuedValues() {
		tokenValues[v] = true
	}
}

// syncWriter collects the suite's log lines.
type syncWriter struct{}

func (syncWriter) Write(p []byte) (int, error) {
	leakMu.Lock()
	defer leakMu.Unlock()
	return logSink.Write(p)
}

// capturingRecorder keeps the events of hand-driven reconciles for the leak check.
type capturingRecorder struct{}

var _ events.EventRecorder = capturingRecorder{}

func (capturingRecorder) Eventf(_, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	leakMu.Lock()
	defer leakMu.Unlock()
	eventNotes = append(eventNotes, fmt.Sprintf("%s %s %s: %s", eventtype, reason, action, fmt.Sprintf(note, args...)))
}
