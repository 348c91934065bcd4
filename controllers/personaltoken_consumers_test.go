package controllers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// consumerWorld is a PersonalToken test driven by hand on a fake clock, with
// workloads reading its Secrets: each token is renewed every hour, with the
// default consumer settings (restart Auto, maxOverlap 1h, no overlap).
type consumerWorld struct {
	*ptEnv
	clk    *clocktesting.FakeClock
	r      *PersonalTokenReconciler
	events *eventLog
}

func newConsumerWorld(t *testing.T) *consumerWorld {
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	events := &eventLog{}
	return &consumerWorld{ptEnv: e, clk: clk, events: events,
		r: &PersonalTokenReconciler{TokenDeps: e.deps(k8sClient, k8sClient, events)}}
}

// hourlyToken creates a PersonalToken renewed every hour, after mutate, and
// mints its first token; it returns the token and the value its Secret holds.
func (w *consumerWorld) hourlyToken(name string, mutate func(*tokensv1alpha1.PersonalToken)) (*tokensv1alpha1.PersonalToken, string) {
	w.t.Helper()
	pt := w.personalToken(name, func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Hour}}
		if mutate != nil {
			mutate(pt)
		}
	})
	w.pass(pt)
	return pt, w.value(pt)
}

// pass runs one reconcile of pt, which must succeed, and returns its result.
func (w *consumerWorld) pass(pt *tokensv1alpha1.PersonalToken) ctrl.Result {
	w.t.Helper()
	result, err := w.reconcile(w.r, pt)
	if err != nil {
		w.t.Fatalf("reconcile of %s failed: %v", pt.Name, err)
	}
	return result
}

// value is the token value pt's Secret holds.
func (w *consumerWorld) value(pt *tokensv1alpha1.PersonalToken) string {
	w.t.Helper()
	return string(w.secret(pt.Spec.Secret.Name).Data["CONTROLLER_OAUTH_TOKEN"])
}

// alive tells whether a token value still authenticates at AWX.
func (w *consumerWorld) alive(value string) bool {
	_, _, ok := w.awx.Authenticate(value)
	return ok
}

// rotateAndRestart lets pt's hour pass, so that it rotates, then the restart
// window, so that its consumers are restarted.
func (w *consumerWorld) rotateAndRestart(pt *tokensv1alpha1.PersonalToken) {
	w.t.Helper()
	w.clk.Step(time.Hour)
	w.pass(pt)
	w.clk.Step(DefaultConsumerSettings.RestartWindow)
	w.pass(pt)
}

// consumers returns pt's status.consumers without their uids, which tests
// cannot know in advance; it fails the test when one has none.
func (w *consumerWorld) consumers(pt *tokensv1alpha1.PersonalToken) []tokensv1alpha1.ConsumerStatus {
	w.t.Helper()
	out := w.get(pt).Status.Consumers
	for i := range out {
		if out[i].UID == "" {
			w.t.Fatalf("consumer %s/%s has no uid", out[i].Kind, out[i].Name)
		}
		out[i].UID = ""
	}
	return out
}

// consumersUpdated returns pt's ConsumersUpdated condition.
func (w *consumerWorld) consumersUpdated(pt *tokensv1alpha1.PersonalToken) metav1.Condition {
	w.t.Helper()
	c := meta.FindStatusCondition(w.get(pt).Status.Conditions, tokensv1alpha1.ConsumersUpdatedCondition)
	if c == nil {
		w.t.Fatalf("%s has no ConsumersUpdated condition", pt.Name)
	}
	return *c
}

func TestPersonalTokenConsumers_EnvConsumerIsRestartedOnceAndTheOldTokenRevokedAfterItsRollout(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", nil)

	g.Expect(w.get(pt).Status.Consumers).To(BeEmpty(), "the first token replaces none: no consumer to look for")
	g.Expect(w.consumersUpdated(pt).Status).To(Equal(metav1.ConditionTrue))
	generation := w.getDeployment(w.ns, "web").Generation
	g.Expect(w.getDeployment(w.ns, "web").Spec.Template.Annotations).NotTo(HaveKey(tokensv1alpha1.RestartedAtAnnotation),
		"the first token replaces none: nothing to restart")

	w.clk.Step(time.Hour)
	result := w.pass(pt)
	g.Expect(w.get(pt).Status.Revision).To(Equal(int64(2)))
	g.Expect(result.RequeueAfter).To(Equal(DefaultConsumerSettings.RestartWindow), "the restart waits for the window")
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(generation), "not restarted within the window")
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the old token stays valid while web holds it")

	w.clk.Step(DefaultConsumerSettings.RestartWindow)
	result = w.pass(pt)
	web := w.getDeployment(w.ns, "web")
	g.Expect(web.Generation).To(Equal(generation+1), "web is restarted")
	second := w.get(pt)
	g.Expect(web.Spec.Template.Annotations).To(HaveKeyWithValue(tokensv1alpha1.RestartedForAnnotation, "api-awx="+second.Status.SecretVersion))
	g.Expect(w.consumers(pt)).To(ConsistOf(tokensv1alpha1.ConsumerStatus{Kind: "Deployment", Name: "web",
		Reads: tokensv1alpha1.ConsumerReadsEnv, Action: tokensv1alpha1.ConsumerActionRestart, Restarted: true, Generation: generation + 1}))
	g.Expect(result.RequeueAfter).To(Equal(DefaultConsumerSettings.PollInterval))
	g.Expect(w.events.with(tokensv1alpha1.ConsumersRestartedReason)).To(ConsistOf(ContainSubstring("Deployment/web")))
	g.Expect(w.events.with(tokensv1alpha1.RestartedReason)).To(ConsistOf(ContainSubstring("Deployment/web")), "an event on the workload")
	g.Expect(w.consumersUpdated(pt).Reason).To(Equal(tokensv1alpha1.RollingOutReason))
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the old token stays valid until web has rolled out")

	w.startRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the old token stays valid while old pods run")

	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked once web has rolled out")
	g.Expect(w.consumersUpdated(pt).Status).To(Equal(metav1.ConditionTrue))
	g.Expect(w.get(pt).Status.Consumers[0].RolledOut).To(BeTrue())
	w.pass(pt)
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(generation+1), "restarted once only")
	w.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

func TestPersonalTokenConsumers_VolumeConsumerIsNotRestartedAndTheOldTokenWaitsForTheKubelet(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", mounted("api-awx", ""))
	pt, oldValue := w.hourlyToken("api", nil)
	generation := w.getDeployment(w.ns, "web").Generation

	w.clk.Step(time.Hour)
	result := w.pass(pt)
	g.Expect(result.RequeueAfter).To(Equal(DefaultConsumerSettings.VolumeRefreshDelay), "next look when the kubelet has refreshed the volume")
	g.Expect(w.get(pt).Status.Consumers).To(ConsistOf(HaveField("Reads", tokensv1alpha1.ConsumerReadsVolume)))

	w.clk.Step(DefaultConsumerSettings.VolumeRefreshDelay - time.Second)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue(), "kept while the kubelet may not have refreshed the volume")

	w.clk.Step(time.Second)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked once the kubelet has refreshed the volume")
	web := w.getDeployment(w.ns, "web")
	g.Expect(web.Generation).To(Equal(generation), "a mounted Secret needs no restart")
	g.Expect(web.Spec.Template.Annotations).NotTo(HaveKey(tokensv1alpha1.RestartedAtAnnotation))
}

func TestPersonalTokenConsumers_SubPathMountIsRestarted(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", mounted("api-awx", "CONTROLLER_OAUTH_TOKEN"))
	pt, oldValue := w.hourlyToken("api", nil)
	generation := w.getDeployment(w.ns, "web").Generation

	w.rotateAndRestart(pt)
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(generation+1), "the kubelet never refreshes a subPath mount")
	g.Expect(w.get(pt).Status.Consumers).To(ConsistOf(HaveField("Reads", tokensv1alpha1.ConsumerReadsSubPath)))
	w.clk.Step(DefaultConsumerSettings.VolumeRefreshDelay)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue(), "a subPath consumer is waited for until it has rolled out, not for the kubelet's refresh")
}

func TestPersonalTokenConsumers_TokensRotatingTogetherRestartTheirSharedWorkloadOnce(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "worker", envFrom("a-awx"), envFrom("b-awx"))
	a, oldA := w.hourlyToken("a", nil)
	b, oldB := w.hourlyToken("b", nil)
	generation := w.getDeployment(w.ns, "worker").Generation

	w.clk.Step(time.Hour)
	w.pass(a)
	w.clk.Step(2 * time.Second)
	w.pass(b)
	w.clk.Step(DefaultConsumerSettings.RestartWindow - 2*time.Second)
	w.pass(a)
	w.clk.Step(2 * time.Second)
	w.pass(b)

	worker := w.getDeployment(w.ns, "worker")
	g.Expect(worker.Generation).To(Equal(generation+1), "one rollout for both changes")
	g.Expect(worker.Spec.Template.Annotations).To(HaveKeyWithValue(tokensv1alpha1.RestartedForAnnotation,
		"a-awx="+w.get(a).Status.SecretVersion+",b-awx="+w.get(b).Status.SecretVersion))
	g.Expect(w.events.with(tokensv1alpha1.RestartedReason)).To(HaveLen(1))
	for _, pt := range []*tokensv1alpha1.PersonalToken{a, b} {
		g.Expect(w.get(pt).Status.Consumers).To(ConsistOf(HaveField("Restarted", true)), "%s counts the restart as its own", pt.Name)
	}

	w.finishRollout(w.ns, "worker")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(a)
	w.pass(b)
	g.Expect(w.alive(oldA)).To(BeFalse())
	g.Expect(w.alive(oldB)).To(BeFalse())
}

func TestPersonalTokenConsumers_TokensRotatingInTheSameSecondEachRollOutTheirConsumers(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web-a", envFrom("a-awx"))
	w.deployment(w.ns, "web-b", envFrom("b-awx"))
	a, _ := w.hourlyToken("a", nil)
	b, _ := w.hourlyToken("b", nil)

	w.clk.Step(time.Hour)
	w.pass(a)
	w.pass(b)
	w.clk.Step(DefaultConsumerSettings.RestartWindow)
	w.pass(a)
	w.pass(b)
	for _, name := range []string{"web-a", "web-b"} {
		g.Expect(w.getDeployment(w.ns, name).Generation).To(Equal(int64(2)), "%s rolls out", name)
	}
}

func TestPersonalTokenConsumers_AWorkloadThatNeverRollsOutIsGivenUpOnAtMaxOverlap(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "stuck", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{MaxOverlap: &metav1.Duration{Duration: 5 * time.Minute}}
	})

	w.rotateAndRestart(pt)
	w.startRollout(w.ns, "stuck") // and no further: its new pods never become available
	w.clk.Step(5*time.Minute - DefaultConsumerSettings.RestartWindow - time.Second)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue())
	g.Expect(w.events.with(tokensv1alpha1.ConsumersNotReadyReason)).To(BeEmpty())

	w.clk.Step(time.Second)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked at maxOverlap")
	g.Expect(w.events.with(tokensv1alpha1.ConsumersNotReadyReason)).To(ConsistOf(
		And(HavePrefix(corev1.EventTypeWarning), ContainSubstring("Deployment/stuck"))))
	g.Expect(w.consumersUpdated(pt).Reason).To(Equal(tokensv1alpha1.ConsumersNotReadyReason))
	w.clk.Step(time.Minute)
	w.pass(pt)
	g.Expect(w.events.with(tokensv1alpha1.ConsumersNotReadyReason)).To(HaveLen(1), "warned once")
}

func TestPersonalTokenConsumers_ACrashBetweenTheRestartAndItsRecordNeitherRepeatsNorLosesIt(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", nil)
	w.clk.Step(time.Hour)
	w.pass(pt)
	w.clk.Step(DefaultConsumerSettings.RestartWindow)

	restartRecord := func(obj client.Object) bool {
		p, ok := obj.(*tokensv1alpha1.PersonalToken)
		return ok && len(p.Status.Consumers) == 1 && p.Status.Consumers[0].Restarted
	}
	var dead atomic.Bool
	crashing := dieAt(false, restartRecord, &dead)
	_, err := w.reconcile(&PersonalTokenReconciler{TokenDeps: w.deps(crashing, crashing, w.events)}, pt)
	g.Expect(err).To(HaveOccurred())
	g.Expect(dead.Load()).To(BeTrue(), "the process died before recording the restart")
	web := w.getDeployment(w.ns, "web")
	g.Expect(web.Generation).To(Equal(int64(2)), "the restart was made")
	restartedAt := web.Spec.Template.Annotations[tokensv1alpha1.RestartedAtAnnotation]

	w.clk.Step(time.Second)
	w.pass(pt)
	web = w.getDeployment(w.ns, "web")
	g.Expect(web.Generation).To(Equal(int64(2)), "not restarted again")
	g.Expect(web.Spec.Template.Annotations).To(HaveKeyWithValue(tokensv1alpha1.RestartedAtAnnotation, restartedAt))
	g.Expect(w.get(pt).Status.Consumers).To(ConsistOf(And(HaveField("Restarted", true), HaveField("Generation", int64(2)))),
		"the restart is recorded")
	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked after the rollout, as without the crash")
}

func TestPersonalTokenConsumers_AWorkloadInAnotherNamespaceIsNeverTouched(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	other := newNamespace(t)
	w.deployment(other, "web", envFrom("api-awx"))
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, _ := w.hourlyToken("api", nil)
	w.rotateAndRestart(pt)

	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(int64(2)))
	foreign := w.getDeployment(other, "web")
	g.Expect(foreign.Generation).To(Equal(int64(1)), "a same-named Secret elsewhere is another Secret")
	g.Expect(foreign.Spec.Template.Annotations).NotTo(HaveKey(tokensv1alpha1.RestartedAtAnnotation))
	g.Expect(w.get(pt).Status.Consumers).To(HaveLen(1))
}

func TestPersonalTokenConsumers_RestartNoneRestartsNothingAndStillWaits(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{Restart: tokensv1alpha1.ConsumerRestartNone}
	})
	w.rotateAndRestart(pt)
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(int64(1)), "restart: None patches nothing")
	g.Expect(w.get(pt).Status.Consumers).To(ConsistOf(HaveField("Action", tokensv1alpha1.ConsumerActionWait)))
	g.Expect(w.alive(oldValue)).To(BeTrue(), "web still holds the old token")

	// Someone else (kubectl rollout restart, say) rolls web out.
	web := w.getDeployment(w.ns, "web")
	web.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": w.clk.Now().Format(time.RFC3339)}
	g.Expect(k8sClient.Update(ctx, web)).To(Succeed())
	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked once web has rolled out")
}

func TestPersonalTokenConsumers_ABarePodIsWaitedForUntilItEnds(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "migrate"}, Spec: podSpec(envFrom("api-awx"))})
	pt, oldValue := w.hourlyToken("api", nil)
	w.rotateAndRestart(pt)
	g.Expect(w.consumers(pt)).To(ConsistOf(tokensv1alpha1.ConsumerStatus{Kind: "Pod", Name: "migrate",
		Reads: tokensv1alpha1.ConsumerReadsEnv, Action: tokensv1alpha1.ConsumerActionWait}))
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the Pod still runs with the old token")

	pod := &corev1.Pod{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "migrate"}, pod)).To(Succeed())
	pod.Status.Phase = corev1.PodSucceeded
	g.Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked once the Pod has ended")
}

func TestPersonalTokenConsumers_RestartAlwaysRestartsVolumeConsumersToo(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", mounted("api-awx", ""))
	pt, _ := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{Restart: tokensv1alpha1.ConsumerRestartAlways}
	})
	w.rotateAndRestart(pt)
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(int64(2)))
	g.Expect(w.consumers(pt)).To(ConsistOf(And(HaveField("Reads", tokensv1alpha1.ConsumerReadsVolume),
		HaveField("Action", tokensv1alpha1.ConsumerActionRestart), HaveField("Restarted", true))))
}

// The operator as it runs: a rotation restarts the consumer, and the previous
// token lives until the workload controller reports the rollout done.
func TestPersonalTokenConsumers_TheRunningOperatorRevokesAfterTheRollout(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		deps := e.managerDeps(mgr, PersonalTokenControllerName)
		deps.Consumers = ConsumerSettings{RestartWindow: 0, VolumeRefreshDelay: time.Minute, PollInterval: 100 * time.Millisecond}
		return (&PersonalTokenReconciler{TokenDeps: deps}).SetupWithManager(mgr, 2, credentials)
	})
	e.deployment(e.ns, "web", envFrom("api-awx"))
	pt := e.waitReady(e.personalToken("api", nil))
	oldValue := string(e.secret("api-awx").Data["CONTROLLER_OAUTH_TOKEN"])

	g.Expect(k8sClient.Patch(ctx, pt, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"annotations":{"`+tokensv1alpha1.RotateAnnotation+`":"1"}}}`)))).To(Succeed())
	g.Eventually(func() int64 { return e.getDeployment(e.ns, "web").Generation }).
		WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Equal(int64(2)))
	g.Consistently(func() bool { _, _, ok := e.awx.Authenticate(oldValue); return ok }).
		WithTimeout(time.Second).WithPolling(100*time.Millisecond).Should(BeTrue(), "kept while web rolls out")

	e.finishRollout(e.ns, "web")
	g.Eventually(func() bool { _, _, ok := e.awx.Authenticate(oldValue); return ok }).
		WithTimeout(testenv.Wait).WithPolling(50*time.Millisecond).Should(BeFalse(), "revoked once web has rolled out")
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// The reconcile that minted the first token may lose its last status write,
// which commits it; once recovered, the rotation after it must still restart
// the consumers of that token.
func TestPersonalTokenConsumers_ALostWriteAfterTheFirstMintStillRestartsAtTheNextRotation(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt := w.personalToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Hour}}
	})
	lastWrite := func(obj client.Object) bool {
		p, ok := obj.(*tokensv1alpha1.PersonalToken)
		return ok && p.Status.SecretVersion != ""
	}
	var dead atomic.Bool
	_, err := w.reconcile(&PersonalTokenReconciler{TokenDeps: w.deps(dieAt(false, lastWrite, &dead), k8sClient, w.events)}, pt)
	g.Expect(err).To(HaveOccurred())
	lost := w.get(pt)
	g.Expect(lost.Status.Revision).To(BeZero(), "the write that committed the token was lost")
	g.Expect(lost.Status.PendingMint).NotTo(BeNil())
	oldValue := w.value(pt)
	w.pass(pt)
	g.Expect(w.get(pt).Status.Revision).To(Equal(int64(1)), "recovered")

	w.rotateAndRestart(pt)
	g.Expect(w.getDeployment(w.ns, "web").Generation).To(Equal(int64(2)), "web is restarted")
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the old token waits for web's rollout")
}

// A per-second timestamp alone would not change when two restarts of one
// workload fall in the same second; the versions it records do.
func TestPersonalTokenConsumers_TwoRestartsOfOneWorkloadInTheSameSecondBothRollItOut(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.r.Consumers.RestartWindow = 0
	w.deployment(w.ns, "worker", envFrom("a-awx"), envFrom("b-awx"))
	a, _ := w.hourlyToken("a", nil)
	b, _ := w.hourlyToken("b", nil)

	w.clk.Step(time.Hour)
	w.pass(a) // rotates and restarts worker at once, with b's old content
	first := w.getDeployment(w.ns, "worker")
	w.pass(b) // in the same second: rotates and restarts worker again
	second := w.getDeployment(w.ns, "worker")
	g.Expect(first.Generation).To(Equal(int64(2)))
	g.Expect(second.Generation).To(Equal(int64(3)), "b's change rolls worker out too")
	g.Expect(second.Spec.Template.Annotations[tokensv1alpha1.RestartedAtAnnotation]).
		To(Equal(first.Spec.Template.Annotations[tokensv1alpha1.RestartedAtAnnotation]), "both restarts fell in the same second")
}

// With restart: None, a rollout someone else starts counts; scaling the
// workload does not.
func TestPersonalTokenConsumers_RestartNoneDoesNotTakeAScaleForARollout(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{Restart: tokensv1alpha1.ConsumerRestartNone}
	})
	w.clk.Step(time.Hour)
	w.pass(pt)

	web := w.getDeployment(w.ns, "web")
	web.Spec.Replicas = ptr.To[int32](2) // unchanged count, but a spec write: generation 2
	web.Spec.MinReadySeconds = 5
	g.Expect(k8sClient.Update(ctx, web)).To(Succeed())
	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue(), "the pods were not replaced: they still hold the old token")
}

// A refused restart (an admission webhook, say) is retried, but the old token is
// still revoked at its revokeBy, with a warning.
func TestPersonalTokenConsumers_AFailingRestartDoesNotKeepTheOldTokenForever(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{MaxOverlap: &metav1.Duration{Duration: 5 * time.Minute}}
	})
	refusing := interceptor.NewClient(k8sClient.(client.WithWatch), interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if _, ok := obj.(*appsv1.Deployment); ok {
				return apierrors.NewForbidden(appsv1.Resource("deployments"), obj.GetName(), errors.New("denied by policy"))
			}
			return c.Patch(ctx, obj, p, opts...)
		},
	})
	r := &PersonalTokenReconciler{TokenDeps: w.deps(refusing, k8sClient, w.events)}
	w.clk.Step(time.Hour)
	_, err := w.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	w.clk.Step(DefaultConsumerSettings.RestartWindow)
	_, err = w.reconcile(r, pt)
	g.Expect(err).To(MatchError(ContainSubstring("denied by policy")), "retried")
	g.Expect(w.alive(oldValue)).To(BeTrue())

	w.clk.Step(5 * time.Minute)
	_, err = w.reconcile(r, pt)
	g.Expect(err).To(HaveOccurred())
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked at its revokeBy")
	g.Expect(w.events.with(tokensv1alpha1.ConsumersNotReadyReason)).To(ConsistOf(ContainSubstring("token")))
}

// A rollout's status stops counting an old pod once it is being deleted; the old
// token waits until it is gone.
func TestPersonalTokenConsumers_TheOldTokenWaitsForPodsShuttingDown(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, oldValue := w.hourlyToken("api", nil)
	// A pod of web's previous ReplicaSet.
	old := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "web-old",
		Labels:          map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "old"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-old", UID: "0b5e7c2a-1d3f-4e5a-9b6c-7d8e9f0a1b2c", Controller: ptr.To(true)}},
		Finalizers:      []string{"tokenoperator.io/test-graceful-shutdown"}}, Spec: podSpec(envFrom("api-awx"))}
	w.create(old)
	g.Expect(k8sClient.Delete(ctx, old)).To(Succeed()) // stays, shutting down, until its finalizer goes

	w.rotateAndRestart(pt)
	g.Expect(w.consumers(pt)).To(ConsistOf(HaveField("Kind", "Deployment")), "the pod is web's, not a consumer of its own")
	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeTrue(), "an old pod is still shutting down")

	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(old), old)).To(Succeed())
	old.Finalizers = nil
	g.Expect(k8sClient.Update(ctx, old)).To(Succeed())
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	g.Expect(w.alive(oldValue)).To(BeFalse(), "revoked once the old pod is gone")
}

// A stalled token revokes its replaced tokens by the consumers as last recorded,
// but only if they were recorded for what the Secret holds now: a reconcile that
// committed a recovered mint and stopped before looking at the consumers leaves
// them recorded for the previous content, and they still run on the replaced
// token.
func TestPersonalTokenConsumers_AStallTrustsNoConsumersRecordedForOtherContent(t *testing.T) {
	g := NewWithT(t)
	w := newConsumerWorld(t)
	w.deployment(w.ns, "web", envFrom("api-awx"))
	pt, _ := w.hourlyToken("api", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{MaxOverlap: &metav1.Duration{Duration: 30 * time.Minute}}
	})
	w.rotateAndRestart(pt)
	w.startRollout(w.ns, "web")
	w.finishRollout(w.ns, "web")
	w.clk.Step(DefaultConsumerSettings.PollInterval)
	w.pass(pt)
	onSecond := w.get(pt).Status
	g.Expect(onSecond.Consumers).To(ConsistOf(HaveField("RolledOut", true)))
	second := w.value(pt)

	w.clk.Step(time.Hour)
	w.pass(pt)
	g.Expect(w.get(pt).Status.PreviousTokens).To(HaveLen(1))
	// As a reconcile that committed a recovered mint and stopped before the
	// consumers step leaves it.
	stale := w.get(pt)
	stale.Status.SecretVersion, stale.Status.Consumers = onSecond.SecretVersion, onSecond.Consumers
	g.Expect(k8sClient.Status().Update(ctx, stale)).To(Succeed())

	// The issuer now allows read-only tokens: this one, asking for write, stalls.
	w.allowReadOnlyTokens()
	w.clk.Step(10 * time.Minute)
	w.pass(pt)
	expectReady(g, w.get(pt), tokensv1alpha1.PolicyViolationReason, "scopes")
	g.Expect(w.alive(second)).To(BeTrue(), "web has not been restarted off the replaced token")

	w.clk.Step(20 * time.Minute)
	w.pass(pt)
	g.Expect(w.alive(second)).To(BeFalse(), "revoked at maxOverlap all the same")
}
