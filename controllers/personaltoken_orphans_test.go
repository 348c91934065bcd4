package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// mintAs creates a token at AWX as ci-bot with description, as a mint of another
// process (or an earlier attempt) would have, and returns its id.
func (e *ptEnv) mintAs(user, password, description string) int64 {
	e.t.Helper()
	c, err := awx.New(awx.Config{URL: e.awx.URL(), API: awx.APIController}, awx.Credentials{Username: user, Password: awx.Secret(password)})
	if err != nil {
		e.t.Fatal(err)
	}
	created, err := c.CreateToken(context.Background(), awx.CreateRequest{Description: description, Scopes: []string{"read"}})
	if err != nil {
		e.t.Fatalf("failed to create a token at AWX: %v", err)
	}
	rememberDeviceHiveValues(created.Value.Reveal())
	return created.ID
}

// liveIDs are the ids of a user's live tokens at AWX.
func (e *ptEnv) liveIDs(user string) []int64 {
	var ids []int64
	for _, t := range e.awx.LiveTokens(user) {
		ids = append(ids, t.ID)
	}
	return ids
}

// A create that AWX commits after the client gave up, within the time a create
// can take: recovery waits for it, finds it, and revokes it (its value was
// lost), before it mints again.
func TestPersonalTokenOrphans_RecoveryWaitsForACreateCommittedAfterTheClientGaveUp(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	// The first retry comes a second after the timeout, before the window ends.
	const remoteTimeout = 4 * time.Second
	e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		deps := e.managerDeps(mgr, PersonalTokenControllerName)
		deps.RemoteTimeout = remoteTimeout
		return (&PersonalTokenReconciler{TokenDeps: deps}).SetupWithManager(mgr, 2, credentials)
	})
	// Commits after the client has given up and after the first retry, before
	// lateCommitWindow has passed.
	e.awx.DelayNext(awxtest.KindCreate, remoteTimeout+remoteTimeout/2)
	pt := e.waitReady(e.personalToken("late", nil))

	g.Expect(eventReasonsOf(e.ns, "late")).To(ContainElement(tokensv1alpha1.OrphanRevokedReason), "the late token is revoked")
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(2), "one late create, and the one that took its place")
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// A create that AWX commits later still, once recovery has given up on it and
// minted again, is revoked by the orphan sweep.
func TestPersonalTokenOrphans_TheSweepRevokesACreateCommittedLaterStill(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	r.RemoteTimeout = 100 * time.Millisecond
	e.awx.DelayNext(awxtest.KindCreate, 500*time.Millisecond) // real time: the client gives up first
	pt := e.personalToken("later", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).To(HaveOccurred(), "the create timed out")

	clk.Step(lateCommitWindow(r.RemoteTimeout))
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred(), "recovery found nothing, and minted again")
	g.Eventually(func() int { return len(e.awx.LiveTokens(awxUser)) }).Should(Equal(2), "the late create commits")
	clk.Step(time.Second)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(2), "not swept before the hour")

	clk.Step(orphanSweepInterval)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// During a leader hand-over, a process recovering a mint must not revoke the
// token another process minted and is about to write.
func TestPersonalTokenOrphans_RecoveryLeavesATokenInFlightAlone(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	secretWrite := func(obj client.Object) bool {
		s, ok := obj.(*corev1.Secret)
		return ok && s.Name == "handover-awx"
	}
	var paused atomic.Bool
	writer := e.manualReconciler(dieAt(false, secretWrite, &paused)) // minted, not written yet
	pt := e.personalToken("handover", nil)
	_, err := e.reconcile(writer, pt)
	g.Expect(err).To(HaveOccurred())
	g.Expect(paused.Load()).To(BeTrue())
	inFlight := e.liveIDs(awxUser)
	g.Expect(inFlight).To(HaveLen(1))

	result, err := e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.RequeueAfter).To(BeNumerically(">", 0))
	g.Expect(e.liveIDs(awxUser)).To(Equal(inFlight), "the token in flight is left alone")
	g.Expect(e.get(pt).Status.PendingMint).NotTo(BeNil(), "and so is the intent, until the create can be over")
}

func TestPersonalTokenOrphans_TheHourlySweepRevokesOnlyThisTokensOrphans(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	e.awx.AddUser(awxtest.User{Username: "someone-else", Password: "someone-else-password"})
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("swept", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	current := e.get(pt).Status.TokenID

	mine := markerPrefixOf(e.get(pt))
	orphan := e.mintAs(awxUser, awxPassword, "test token swept "+mine+"0123456789abcdef]")
	sibling := e.mintAs(awxUser, awxPassword, "other [token-operator "+e.ns+"/swept-2 "+string(pt.UID)+" 0123456789abcdef]")
	predecessor := e.mintAs(awxUser, awxPassword, "kept by an earlier swept [token-operator "+e.ns+"/swept 5f0c1a2b-0000-4000-8000-000000000000 0123456789abcdef]")
	foreign := e.mintAs("someone-else", "someone-else-password", "theirs "+mine+"0123456789abcdef]")
	unmarked := e.mintAs(awxUser, awxPassword, "made by hand")

	clk.Step(30 * time.Minute)
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.liveIDs(awxUser)).To(ContainElement(orphan), "no sweep within the hour")

	clk.Step(30 * time.Minute)
	result, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.liveIDs(awxUser)).To(ConsistOf(current, sibling, predecessor, unmarked), "the orphan is revoked, nothing else")
	g.Expect(e.liveIDs("someone-else")).To(ConsistOf(foreign), "another user's token is never touched")
	g.Expect(result.RequeueAfter).To(BeNumerically("<=", orphanSweepInterval))
}

func TestPersonalTokenOrphans_DeletionRevokesOrphansToo(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Now().UTC().Truncate(time.Second))
	e := newPTEnv(t, awxtest.FlavorController, clk)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("gone", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	e.mintAs(awxUser, awxPassword, markerPrefixOf(e.get(pt))+"fedcba9876543210]")
	clk.Step(time.Minute)

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty(), "the current token and the orphan are revoked")
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), &tokensv1alpha1.PersonalToken{})).NotTo(Succeed(), "deleted")
}

// eventReasonsOf are the reasons of the events regarding the object name in ns.
func eventReasonsOf(ns, name string) []string {
	var list eventsv1.EventList
	if err := k8sClient.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil
	}
	var reasons []string
	for _, ev := range list.Items {
		if ev.Regarding.Name == name {
			reasons = append(reasons, ev.Reason)
		}
	}
	return reasons
}

// A rotation asked for while a mint was interrupted asks for a newer token than
// the one recovery commits.
func TestPersonalTokenRecovery_ARotationAskedForDuringAnInterruptedMintIsHonoured(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	pt := e.personalToken("asked", nil)
	_, err := e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred())

	annotate := func(value string) {
		current := e.get(pt)
		current.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: value}
		g.Expect(k8sClient.Update(ctx, current)).To(Succeed())
	}
	annotate("1")
	secretWrite := func(obj client.Object) bool {
		s, ok := obj.(*corev1.Secret)
		return ok && s.Name == "asked-awx"
	}
	var dead atomic.Bool
	_, err = e.reconcile(e.manualReconciler(dieAt(true, secretWrite, &dead)), pt)
	g.Expect(err).To(HaveOccurred(), "died after writing the Secret, before the commit")
	annotate("2")

	_, err = e.reconcile(e.manualReconciler(k8sClient), pt)
	g.Expect(err).NotTo(HaveOccurred())
	got := e.get(pt)
	g.Expect(got.Status.Revision).To(Equal(int64(3)), "the recovered token answers rotate=1; rotate=2 mints another")
	g.Expect(got.Status.LastHandledRotateAt).To(Equal("2"))
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// A PersonalToken that never minted has nothing to sweep: deleting it does not
// wait for credentials it never had.
func TestPersonalTokenOrphans_DeletingATokenThatNeverMintedDoesNotWait(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("typo", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.CredentialsSecretRef.Name = "no-such-secret" })
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(pt).Status.Revision).To(BeZero())

	g.Expect(k8sClient.Delete(ctx, pt)).To(Succeed())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), &tokensv1alpha1.PersonalToken{})).NotTo(Succeed(), "deleted")
}
