package controllers

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/rotation"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// tokenEnv is what every token test's world has, whatever the kind: a namespace
// of its own and, for tests that drive time by hand, a fake clock. ptEnv and
// datEnv add the remote test server, the issuers and the Secrets of their kind.
type tokenEnv struct {
	t     *testing.T
	ns    string
	clock *clocktesting.FakeClock // manual mode only
	log   logr.Logger             // shown when the test fails, and kept for the leak check
}

func newTokenEnv(t *testing.T, fake *clocktesting.FakeClock) tokenEnv {
	return tokenEnv{t: t, ns: newNamespace(t), clock: fake, log: testenv.Logger(t, syncWriter{})}
}

func (e *tokenEnv) create(obj client.Object) {
	e.t.Helper()
	if err := k8sClient.Create(ctx, obj); err != nil {
		e.t.Fatalf("failed to create %T %s: %v", obj, obj.GetName(), err)
	}
}

func (e *tokenEnv) passiveClock() clock.PassiveClock {
	if e.clock != nil {
		return e.clock
	}
	return clock.RealClock{}
}

// deps are a reconciler's dependencies on client c (also its API reader), with
// the env's clock.
func (e *tokenEnv) deps(c client.Client, reader client.Reader, recorder events.EventRecorder) TokenDeps {
	return TokenDeps{Client: c, APIReader: reader, Recorder: recorder, Clock: e.passiveClock(), RemoteTimeout: 5 * time.Second,
		Consumers: DefaultConsumerSettings, Budget: NewRemoteBudget(DefaultRemoteCallsPerIssuer)}
}

// managerDeps are the dependencies of a reconciler run by mgr, as the operator wires them.
func (e *tokenEnv) managerDeps(mgr ctrl.Manager, controller string) TokenDeps {
	return e.deps(mgr.GetClient(), mgr.GetAPIReader(), mgr.GetEventRecorder(controller))
}

// manualDeps are the dependencies of a reconciler driven by hand with c (the real
// client, possibly wrapped to inject failures or count writes).
func (e *tokenEnv) manualDeps(c client.Client) TokenDeps {
	return e.deps(c, c, capturingRecorder{})
}

// startOperator runs, for this namespace, a manager with the token controller
// that register adds and the issuer controllers, as a new operator process would:
// its own cache, client and event recorder.
func (e *tokenEnv) startOperator(register func(ctrl.Manager, cache.Cache) error) (stop func()) {
	return startTestManager(e.t, e.ns, func(mgr ctrl.Manager, credentials cache.Cache) error {
		if err := register(mgr, credentials); err != nil {
			return err
		}
		return e.issuerReconciler(e.managerDeps(mgr, TokenIssuerControllerName)).SetupWithManager(mgr, credentials)
	})
}

// issuerReconciler returns the issuer check as the operator runs it, with the
// test's namespace as the operator's.
func (e *tokenEnv) issuerReconciler(deps TokenDeps) *IssuerReconciler {
	return &IssuerReconciler{TokenDeps: deps, OperatorNamespace: e.ns, CheckInterval: DefaultIssuerCheckInterval}
}

// checkIssuer runs the check of the TokenIssuer name by hand, for tests that
// drive tokens by hand, and waits for nothing: it fails the test unless the
// issuer turns Ready.
func (e *tokenEnv) checkIssuer(name string) {
	e.t.Helper()
	checker := e.issuerReconciler(e.manualDeps(k8sClient)).tokenIssuers()
	if _, err := e.reconcile(checker, &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}); err != nil {
		e.t.Fatalf("failed to check TokenIssuer %s: %v", name, err)
	}
	issuer := &tokensv1alpha1.TokenIssuer{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, issuer); err != nil ||
		!meta.IsStatusConditionTrue(issuer.Status.Conditions, tokensv1alpha1.ReadyCondition) {
		e.t.Fatalf("TokenIssuer %s is not Ready: %v %+v", name, err, issuer.Status.Conditions)
	}
}

// waitIssuerReady waits until the TokenIssuer name has passed a check of its
// current spec: the check's remote calls are over, so a test can count from here.
func (e *tokenEnv) waitIssuerReady(name string) {
	e.t.Helper()
	NewWithT(e.t).Eventually(func(g Gomega) {
		issuer := &tokensv1alpha1.TokenIssuer{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, issuer)).To(Succeed())
		g.Expect(readyStatus(issuer)).To(Equal(metav1.ConditionTrue), "conditions: %+v", issuer.Status.Conditions)
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// reconcile runs one reconcile of obj by hand, logging to the test.
func (e *tokenEnv) reconcile(r ctrlreconcile.Reconciler, obj client.Object) (ctrl.Result, error) {
	logged := ctrl.LoggerInto(ctx, e.log)
	return r.Reconcile(logged, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
}

// secret reads a Secret afresh, and remembers the token values it holds for the
// leak check; nil when it does not exist.
func (e *tokenEnv) secret(name string) *corev1.Secret {
	s := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, s); err != nil {
		return nil
	}
	rememberSecretTokens(s)
	return s
}

// getToken reads token afresh from the API server.
func getToken[T tokenObject](t *testing.T, token T) T {
	t.Helper()
	out := token.DeepCopyObject().(T)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(token), out); err != nil {
		t.Fatalf("failed to read %T %s: %v", token, token.GetName(), err)
	}
	return out
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
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
	return got
}

// startTestManager starts a manager limited to namespace, with the controller
// that setup registers, and stops it when the test ends (or stop is called).
func startTestManager(t *testing.T, namespace string, setup func(ctrl.Manager, cache.Cache) error) (stop func()) {
	t.Helper()
	namespaces := map[string]cache.Config{namespace: {}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                 testenv.Logger(t, syncWriter{}),
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: namespaces, ByObject: OwnedSecretsOnly(nil)},
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

// expectDecision fails t unless the rotation chain's outcome is the one wanted:
// no hit when wantReason is empty, else that reason with a message holding
// wantMessage.
func expectDecision(t *testing.T, d rotation.Decision, hit bool, wantReason, wantMessage string) {
	t.Helper()
	switch {
	case wantReason == "" && hit:
		t.Fatalf("want no mint, got %s: %s", d.Reason, d.Message)
	case wantReason != "" && d.Reason != wantReason:
		t.Fatalf("want %s, got %q (%s)", wantReason, d.Reason, d.Message)
	case !strings.Contains(d.Message, wantMessage):
		t.Fatalf("want a message containing %q, got %q", wantMessage, d.Message)
	}
}
