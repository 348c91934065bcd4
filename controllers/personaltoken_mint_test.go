package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

func TestPersonalTokenReconciler_RotatesAfterMaxAgeAndRevokesAfterOverlap(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("rotating", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{
			MaxAge:  &metav1.Duration{Duration: time.Hour},
			Overlap: &metav1.Duration{Duration: 10 * time.Minute},
		}
	})

	result, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	first := e.get(pt)
	// maxAge, less this token's share of the jitter that spreads renewals.
	renewAfter := time.Hour - schedule.Jitter(string(first.UID), time.Hour)
	g.Expect(result.RequeueAfter).To(Equal(renewAfter), "next look at the renewal time")
	oldValue := string(e.secret("rotating-awx").Data["CONTROLLER_OAUTH_TOKEN"])
	g.Expect(first.Status.RenewalTime.Time).To(BeTemporally("==", clk.Now().Add(renewAfter)))

	clk.Step(time.Hour)
	result, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	second := e.get(pt)
	g.Expect(second.Status.TokenID).NotTo(Equal(first.Status.TokenID))
	g.Expect(second.Status.PreviousTokens).To(ConsistOf(HaveField("ID", first.Status.TokenID)))
	g.Expect(result.RequeueAfter).To(Equal(10*time.Minute), "next look when the overlap ends")
	_, _, oldAlive := e.awx.Authenticate(oldValue)
	g.Expect(oldAlive).To(BeTrue(), "the old token stays valid during the overlap")

	clk.Step(9 * time.Minute)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	_, _, oldAlive = e.awx.Authenticate(oldValue)
	g.Expect(oldAlive).To(BeTrue(), "not revoked before the overlap has passed")

	clk.Step(time.Minute)
	result, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	_, _, oldAlive = e.awx.Authenticate(oldValue)
	g.Expect(oldAlive).To(BeFalse(), "revoked once the overlap has passed")
	g.Expect(e.get(pt).Status.PreviousTokens).To(BeEmpty())
	g.Expect(result.RequeueAfter).To(Equal(50*time.Minute-schedule.Jitter(string(first.UID), time.Hour)), "next look at the next renewal")
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// dieAt returns a client under which the process "dies" at the first write that
// matches: that write is carried out first when applied is true (the reply is
// what is lost), and every write after it fails, as nothing runs after a crash.
func dieAt(applied bool, matches func(obj client.Object) bool, dead *atomic.Bool) client.Client {
	errCrash := errors.New("injected crash")
	write := func(obj client.Object, do func() error) error {
		if dead.Load() {
			return errCrash
		}
		if !matches(obj) {
			return do()
		}
		dead.Store(true)
		if applied {
			if err := do(); err != nil {
				return err
			}
		}
		return errCrash
	}
	return interceptor.NewClient(k8sClient.(client.WithWatch), interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			return write(obj, func() error { return c.Create(ctx, obj, opts...) })
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			return write(obj, func() error { return c.Update(ctx, obj, opts...) })
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			return write(obj, func() error { return c.Patch(ctx, obj, p, opts...) })
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			return write(obj, func() error { return c.SubResource(sub).Patch(ctx, obj, p, opts...) })
		},
	})
}

func TestPersonalTokenReconciler_CrashAtEveryStepLeavesNoOrphan(t *testing.T) {
	intent := func(obj client.Object) bool {
		pt, ok := obj.(*tokensv1alpha1.PersonalToken)
		return ok && pt.Status.PendingMint != nil
	}
	secretWrite := func(obj client.Object) bool {
		secret, ok := obj.(*corev1.Secret)
		return ok && secret.Name == "crashy-awx"
	}
	commit := func(obj client.Object) bool {
		pt, ok := obj.(*tokensv1alpha1.PersonalToken)
		return ok && pt.Status.PendingMint == nil && pt.Status.TokenID != 0
	}
	points := []struct {
		name string
		// client returns the Kubernetes client of the interrupted pass.
		client func(e *ptEnv, dead *atomic.Bool) client.Client
		// orphans is how many live tokens no Secret holds right after the crash.
		orphans int
	}{
		{"after the intent is recorded", func(_ *ptEnv, dead *atomic.Bool) client.Client {
			return dieAt(true, intent, dead)
		}, 0},
		{"after the mint, with its reply lost", func(e *ptEnv, dead *atomic.Bool) client.Client {
			e.awx.LoseNextReply("create")
			dead.Store(true)
			return k8sClient
		}, 1},
		{"after the Secret is written", func(_ *ptEnv, dead *atomic.Bool) client.Client {
			return dieAt(true, secretWrite, dead)
		}, 0},
		{"before the commit", func(_ *ptEnv, dead *atomic.Bool) client.Client {
			return dieAt(false, commit, dead)
		}, 0},
	}
	for _, point := range points {
		t.Run(point.name, func(t *testing.T) {
			t.Parallel() // recovery waits out the time a create may take: let the points wait together
			g := NewWithT(t)
			e := newPTEnv(t, awxtest.FlavorController, nil)
			var dead atomic.Bool
			r := e.manualReconciler(point.client(e, &dead))
			pt := e.personalToken("crashy", nil)

			_, err := e.reconcile(r, pt)
			g.Expect(err).To(HaveOccurred(), "the first pass is interrupted")
			g.Expect(dead.Load()).To(BeTrue(), "the crash point was reached")
			g.Expect(e.get(pt).Status.PendingMint).NotTo(BeNil(), "the intent survives the crash")
			if point.orphans > 0 {
				g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(point.orphans), "the lost reply left a token no Secret holds")
			}

			// A restarted operator finishes the job.
			e.startManager()
			e.waitReady(pt)
			e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
		})
	}
}

func TestPersonalTokenReconciler_NoOpResyncWritesNothing(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	stop := e.startManager()
	pt := e.waitReady(e.personalToken("quiet", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: 720 * time.Hour}}
	}))
	stop()

	var writes atomic.Int32
	counting := countingClient(&writes)
	e.awx.ResetCalls()

	result, err := e.reconcile(e.manualReconciler(counting), pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(writes.Load()).To(BeZero(), "no write to the Kubernetes API")
	g.Expect(e.awx.TotalCalls()).To(BeZero(), "no call to AWX")
	g.Expect(result.RequeueAfter).To(BeNumerically("~", orphanSweepInterval, time.Minute),
		"a healthy token far from renewal looks again for its hourly orphan sweep")
}

func TestPersonalTokenReconciler_RetainRevokesReplacedTokensOnly(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("kept", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.DeletionPolicy = tokensv1alpha1.DeletionPolicyRetain
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Hour}, Overlap: &metav1.Duration{Duration: 10 * time.Minute}}
	})
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	clk.Step(time.Hour)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(pt).Status.PreviousTokens).To(HaveLen(1), "deleted within the overlap")
	g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(2))

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	live := e.awx.LiveTokens(awxUser)
	g.Expect(live).To(HaveLen(1), "the replaced token is revoked, not orphaned")
	secret := e.secret("kept-awx")
	g.Expect(secret).NotTo(BeNil())
	g.Expect(string(secret.Data["CONTROLLER_OAUTH_TOKEN"])).To(Equal(live[0].Value), "the retained Secret holds the retained token")
}

func TestPersonalTokenReconciler_OtherUsersCredentialsNeverDropAToken(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.awx.AddUser(awxtest.User{Username: "someone-else", Password: "their-password"})
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("switched", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.User = "" })
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	first := e.get(pt).Status.TokenID

	// The credentials now belong to another user: AWX hides ci-bot's token from
	// them (404), which must not be read as "already revoked".
	login := e.secret("ci-bot-login")
	login.Data = map[string][]byte{"username": []byte("someone-else"), "password": []byte("their-password")}
	g.Expect(k8sClient.Update(ctx, login)).To(Succeed())
	patch := client.MergeFrom(e.get(pt))
	rotate := e.get(pt)
	rotate.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "now"}
	g.Expect(k8sClient.Patch(ctx, rotate, patch)).To(Succeed())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())

	got := e.get(pt)
	g.Expect(got.Status.PreviousTokens).To(ConsistOf(HaveField("ID", first)), "ci-bot's token is still tracked")
	g.Expect(e.awx.LiveTokens(awxUser)).To(ConsistOf(HaveField("ID", first)), "and still live: nothing could revoke it")
	ready := meta.FindStatusCondition(got.Status.Conditions, tokensv1alpha1.ReadyCondition)
	g.Expect(ready.Reason).To(Equal(tokensv1alpha1.UserMismatchReason))
	g.Expect(ready.Message).To(ContainSubstring("restore that user's credentials"))

	// The user gives up on ci-bot's token: it is forgotten, and said to stay alive.
	abandon := e.get(pt)
	abandon.Annotations[tokensv1alpha1.AbandonPreviousTokensAnnotation] = "true"
	g.Expect(k8sClient.Update(ctx, abandon)).To(Succeed())
	events := &eventLog{}
	_, err = e.reconcile(&PersonalTokenReconciler{TokenDeps: e.deps(k8sClient, k8sClient, events)}, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(pt).Status.PreviousTokens).To(BeEmpty())
	expectReady(g, e.get(pt), "Succeeded", "someone-else")
	g.Expect(events.with(tokensv1alpha1.AbandonedReason)).To(ConsistOf(And(HavePrefix(corev1.EventTypeWarning),
		ContainSubstring(fmt.Sprintf("token %d", first)))))
	g.Expect(e.awx.LiveTokens(awxUser)).To(ConsistOf(HaveField("ID", first)), "abandoned, not revoked")
}

// A policy refusal stops minting, not revocation: a replaced token is revoked
// when its time comes, and the stalled token is looked at again by then.
func TestPersonalTokenReconciler_AStallDoesNotStopRevocation(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("stalling", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Hour}, Overlap: &metav1.Duration{Duration: 10 * time.Minute}}
	})
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	oldValue := string(e.secret("stalling-awx").Data["CONTROLLER_OAUTH_TOKEN"])
	clk.Step(time.Hour)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(pt).Status.PreviousTokens).To(HaveLen(1))

	// The issuer now allows read-only tokens: this one asks for write too.
	e.allowReadOnlyTokens()
	result, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(pt), tokensv1alpha1.PolicyViolationReason, "scopes")
	g.Expect(result.RequeueAfter).To(Equal(10*time.Minute), "looked at again when the replaced token is due")

	clk.Step(10 * time.Minute)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	_, _, alive := e.awx.Authenticate(oldValue)
	g.Expect(alive).To(BeFalse(), "revoked on time, stall or not")
	g.Expect(e.get(pt).Status.PreviousTokens).To(BeEmpty())
}

// A throttled AWX says when to come back; the token is looked at again then,
// not sooner.
func TestPersonalTokenReconciler_HonoursRetryAfter(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	pt := e.personalToken("throttled", nil)
	e.awx.ThrottleNext(1, 30*time.Second)
	result, err := e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.RequeueAfter).To(Equal(30 * time.Second))
	expectReady(g, e.get(pt), tokensv1alpha1.RemoteErrorReason, "throttled")
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(BeZero())

	// A server that keeps asking for a second is not obeyed every second: the
	// failures back off as any others do.
	var last time.Duration
	for range 5 {
		e.awx.ThrottleNext(1, time.Second)
		result, err = e.reconcile(e.manualReconciler(k8sClient), pt)
		g.Expect(err).NotTo(HaveOccurred())
		last = result.RequeueAfter
	}
	g.Expect(last).To(BeNumerically(">=", 16*time.Second), "backed off after six refusals")
}

// A stalled token past its renewal time waits for the user, not in a loop.
func TestPersonalTokenReconciler_AStallPastRenewalDoesNotSpin(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("overdue", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Hour}}
	})
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	e.allowReadOnlyTokens()
	clk.Step(2 * time.Hour)
	e.awx.ResetCalls()
	result, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	expectReady(g, e.get(pt), tokensv1alpha1.PolicyViolationReason, "scopes")
	g.Expect(result.RequeueAfter).To(BeZero(), "nothing to do until the user acts")
	g.Expect(e.awx.TotalCalls()).To(BeZero())
}
