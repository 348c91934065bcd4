package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// outcome is what a token's reconcile hands to finishReconcile.
type outcome struct {
	err     error
	ready   string        // the Ready message on success
	requeue time.Duration // when to look again on success
}

// finishReconcile records the outcome of a reconcile, in the one deferred step
// every kind shares: count a token's failures, summarize the conditions, patch
// the status once, record the error, and turn the outcome into a result.
func finishReconcile(ctx context.Context, obj reconcile.Object, patcher *reconcile.StatusPatcher, recorder events.EventRecorder,
	clk clock.PassiveClock, o outcome) (ctrl.Result, error) {
	if token, ok := obj.(tokenObject); ok {
		countFailures(token.GetTokenStatus(), clk, o.err)
		o.err = backOffRemoteWaits(token.GetTokenStatus(), o.err)
	}
	reconcile.Summarize(obj, o.err, o.ready)
	err := o.err
	// A token deleted meanwhile has no status to write.
	if perr := patcher.Patch(ctx, obj); perr != nil && !apierrors.IsNotFound(perr) {
		// First, so that the outcome, unrecorded, is retried whatever it was.
		err = errors.Join(reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to patch status: %w", perr)), err)
	}
	reconcile.RecordError(ctx, recorder, obj, err)
	return reconcile.Result(ctrl.Result{RequeueAfter: o.requeue}, err)
}

// countFailures keeps the failure count and time that users read; conflicts from
// a lagging cache are not failures.
func countFailures(status *tokensv1alpha1.TokenStatus, clk clock.PassiveClock, err error) {
	switch {
	case err == nil:
		status.FailedIssuanceAttempts = 0
	case !reconcile.IsConflict(err):
		status.FailedIssuanceAttempts++
		status.LastFailureTime = &metav1.Time{Time: clk.Now()}
	}
}

// backOffRemoteWaits makes a remote system's Retry-After a floor, not the pace:
// a server that keeps answering "retry in a second" is asked again no sooner
// than the failures' exponential backoff, as any other failure would be. It
// wraps err rather than change it: tokens sharing a Secret share the errors of
// reading it.
func backOffRemoteWaits(status *tokensv1alpha1.TokenStatus, err error) error {
	var waiting *reconcile.Waiting
	if !errors.As(err, &waiting) || waiting.Reason != tokensv1alpha1.RemoteErrorReason {
		return err
	}
	backoff := failureBackoff.max
	if n := status.FailedIssuanceAttempts; n < 20 {
		backoff = min(failureBackoff.base<<max(n-1, 0), failureBackoff.max)
	}
	return reconcile.Wait(waiting.Reason, max(waiting.RequeueAfter, backoff), err)
}
