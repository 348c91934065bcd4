package reconcile

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// Summarize records the outcome of a reconcile on obj, following kstatus:
//   - success: Ready=True with readyMessage; Reconciling and Stalled removed;
//     observedGeneration set.
//   - Stalling: Stalled=True and Ready=False with the error; observedGeneration set,
//     since this generation reached its outcome.
//   - anything else: Reconciling=True and Ready=False with the error;
//     observedGeneration kept, since the generation is still being worked on.
//
// Messages are error texts, which by the rule of the house never hold a token value.
func Summarize(obj Object, err error, readyMessage string) {
	stalling, _ := typed(err).(*Stalling)
	switch {
	case err == nil:
		Delete(obj, tokensv1alpha1.ReconcilingCondition)
		Delete(obj, tokensv1alpha1.StalledCondition)
		MarkTrue(obj, tokensv1alpha1.ReadyCondition, SucceededReason, readyMessage)
		obj.SetObservedGeneration(obj.GetGeneration())
	case stalling != nil:
		Delete(obj, tokensv1alpha1.ReconcilingCondition)
		MarkTrue(obj, tokensv1alpha1.StalledCondition, stalling.Reason, err.Error())
		MarkFalse(obj, tokensv1alpha1.ReadyCondition, stalling.Reason, err.Error())
		obj.SetObservedGeneration(obj.GetGeneration())
	default:
		Delete(obj, tokensv1alpha1.StalledCondition)
		MarkTrue(obj, tokensv1alpha1.ReconcilingCondition, ProgressingWithRetryReason, err.Error())
		MarkFalse(obj, tokensv1alpha1.ReadyCondition, ReasonOf(err), err.Error())
	}
}

// Result turns the outcome of a reconcile into what controller-runtime expects:
// Stalling waits for a change (or its RetryAfter), Waiting requeues after its delay, other
// errors go back to the rate limiter, success requeues after result.
func Result(result ctrl.Result, err error) (ctrl.Result, error) {
	if err == nil {
		return result, nil
	}
	if IsConflict(err) {
		// Expected with a cache: look again shortly, without an error log.
		return ctrl.Result{RequeueAfter: conflictRequeue}, nil
	}
	switch t := typed(err).(type) {
	case *Stalling:
		return ctrl.Result{RequeueAfter: t.RetryAfter}, nil
	case *Waiting:
		return ctrl.Result{RequeueAfter: t.RequeueAfter}, nil
	}
	return ctrl.Result{}, err
}

// RecordError is the one place where a failed reconcile is logged and turned into
// an event, so steps never log the errors they return.
func RecordError(ctx context.Context, recorder events.EventRecorder, obj Object, err error) {
	if err == nil {
		return
	}
	log := ctrl.LoggerFrom(ctx)
	if IsConflict(err) {
		log.V(1).Info("Object changed while being reconciled; retrying", "message", err.Error())
		return
	}
	if waiting, ok := typed(err).(*Waiting); ok {
		log.V(1).Info("Waiting for a dependency", "reason", waiting.Reason, "message", err.Error())
		recorder.Eventf(obj, nil, corev1.EventTypeNormal, waiting.Reason, "Reconcile", "%s", err.Error())
		return
	}
	log.Error(err, "Reconciliation failed", "reason", ReasonOf(err))
	recorder.Eventf(obj, nil, corev1.EventTypeWarning, ReasonOf(err), "Reconcile", "%s", err.Error())
}

// LowestRequeue returns the sooner of two requeue delays, zero meaning none.
func LowestRequeue(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0 || a < b:
		return a
	}
	return b
}

// conflictRequeue is how soon a reconcile that met a conflict runs again.
const conflictRequeue = time.Second

// IsConflict tells whether err is a write refused because the object changed
// since it was read: expected with a cache, retried at once, and neither an event
// nor a failure for the user.
func IsConflict(err error) bool {
	return apierrors.IsConflict(err)
}
