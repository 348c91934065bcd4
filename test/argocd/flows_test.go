package argocd

import (
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/testenv"
	"github.com/tokenoperator/token-operator/internal/testserver"
)

// Flows more than one scenario goes through.

// specChanged patches obj's spec and captures the answer: a generation the
// operator has not reconciled yet, whatever the conditions say of the one before.
func (w *world) specChanged(fixture string, obj client.Object, patch string) {
	w.t.Helper()
	changed := w.patch(obj, patch)
	w.capture(fixture, health{"Progressing", notReconciled(changed)}, changed)
}

// issuerBusy holds up the first remote call (of kind firstCall) of two tokens
// that token makes, so that a third waits for room with their issuer, and
// captures it.
func (w *world) issuerBusy(remote *testserver.Faults, firstCall string, token func(n int) client.Object) {
	w.t.Helper()
	before := remote.Calls(firstCall)
	remote.SetDelay(hang)
	w.createOnly(token(1))
	w.createOnly(token(2))
	NewWithT(w.t).Eventually(func() int { return remote.Calls(firstCall) }).WithTimeout(testenv.Wait).Should(Equal(before + 2))
	busy := w.await(w.createOnly(token(3)), hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.IssuerBusyReason))
	remote.SetDelay(0)
	w.capture("progressing_issuerBusy", health{"Progressing", messageOf(busy, tokensv1alpha1.ReadyCondition)}, busy)
}

// failingThenChanged captures obj, whose remote system fails every call,
// failing; then with a new spec, not reconciled yet.
func (w *world) failingThenChanged(obj client.Object, specPatch string) {
	w.t.Helper()
	failing := w.await(obj, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.RemoteErrorReason))
	w.capture("degraded_serverError", health{"Degraded", messageOf(failing, tokensv1alpha1.ReadyCondition)}, failing)
	w.specChanged("progressing_specChangedWhileFailing", obj, specPatch)
}

// issuingAfterFailure lets remote, which failed token until now, answer again
// but hold up its create call, changes token's spec, and captures it being
// issued: the failure recorded for the generation before says nothing of the
// new one. The last failure has just been recorded, so the operator's next retry
// of it is a backoff away: the one under way is the new generation's.
func (w *world) issuingAfterFailure(token client.Object, remote *testserver.Faults, createKind, specPatch string) {
	w.t.Helper()
	w.await(token, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.RemoteErrorReason),
		isCurrent(tokensv1alpha1.ReadyCondition))
	remote.FailNext(0)
	remote.DelayNext(createKind, hang)
	w.patch(token, specPatch)
	issuing := w.await(token, hasCondition(tokensv1alpha1.IssuingCondition, metav1.ConditionTrue, ""),
		isCurrent(tokensv1alpha1.ReconcilingCondition))
	w.capture("progressing_issuingAfterFailure", health{"Progressing", messageOf(issuing, tokensv1alpha1.ReconcilingCondition)}, issuing)
}

// stalledThenChanged captures obj stalled with reason as fixture, then with a
// new spec, not reconciled yet.
func (w *world) stalledThenChanged(fixture string, obj client.Object, reason, specPatch string) {
	w.t.Helper()
	stalled := w.await(obj, hasCondition(tokensv1alpha1.StalledCondition, metav1.ConditionTrue, reason))
	w.capture(fixture, health{"Degraded", messageOf(stalled, tokensv1alpha1.StalledCondition)}, stalled)
	w.specChanged("progressing_specChangedWhileStalled", obj, specPatch)
}
