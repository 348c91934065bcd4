package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// reconcileConsumers brings the workloads that read the Secret to its content.
// When the content changed since status.secretVersion, the consumers are found
// afresh and recorded; then, each reconcile until they are done, those due are
// restarted and the others looked at. Nothing is restarted but for a change of
// the Secret's content: not for a resync, nor because the operator restarted.
// The first content replaces none, so nothing is looked for then.
// st.consumersSettled tells revocation whether the previous content is still
// needed. A failure here is retried but does not stop revocation, which then
// waits for its latest time (revokeBy) instead.
func (l lifecycle[T, M]) reconcileConsumers(ctx context.Context, obj T, st *tokenState) error {
	if st.heldData == nil {
		return nil
	}
	status := obj.GetTokenStatus()
	c := consumerRollout{TokenDeps: l.TokenDeps, fieldOwner: l.controller, token: obj, kindName: l.kindName,
		secret: obj.GetSecretTemplate().Name, version: secretVersion(st.heldData), policy: consumerPolicyOf(obj.GetConsumers())}
	if status.SecretVersion != c.version || status.SecretChangedAt == nil {
		var found []tokensv1alpha1.ConsumerStatus
		if status.SecretVersion != "" {
			var err error
			if found, err = c.discover(ctx); err != nil {
				l.consumersFailed(obj, c, st, err)
				return nil
			}
		}
		status.SecretVersion, status.SecretChangedAt, status.Consumers = c.version, &metav1.Time{Time: l.Clock.Now()}, found
	}
	pending, next, err := l.advanceConsumers(ctx, c, status)
	if err != nil {
		l.consumersFailed(obj, c, st, err)
		return nil
	}
	st.pendingConsumers = pending
	st.consumersSettled = l.recordConsumers(obj, c, pending)
	if !st.consumersSettled {
		deadline := status.SecretChangedAt.Add(c.policy.maxOverlap)
		st.nextConsumers = reconcile.LowestRequeue(next, max(deadline.Sub(l.Clock.Now()), time.Second))
	}
	return nil
}

// consumersFailed records a failure to find, restart or follow the consumers,
// to be retried once the other steps have run.
func (l lifecycle[T, M]) consumersFailed(obj T, c consumerRollout, st *tokenState, err error) {
	reconcile.MarkFalse(obj, tokensv1alpha1.ConsumersUpdatedCondition, tokensv1alpha1.RollingOutReason,
		fmt.Sprintf("cannot bring the consumers of Secret %q to its new content (retrying): %v", c.secret, err))
	st.deferredErr = err
}

// advanceConsumers restarts the consumers whose restart is due and looks at the
// others, and returns those still holding the previous content, and when to look
// again.
func (l lifecycle[T, M]) advanceConsumers(ctx context.Context, c consumerRollout, status *tokensv1alpha1.TokenStatus) (pending []string, next time.Duration, err error) {
	changedAt := status.SecretChangedAt.Time
	restartAt := changedAt.Add(l.Consumers.RestartWindow)
	var restarted []string
	for i := range status.Consumers {
		cs := &status.Consumers[i]
		if cs.RolledOut {
			continue
		}
		if cs.Action == tokensv1alpha1.ConsumerActionRestart && !cs.Restarted {
			if wait := restartAt.Sub(l.Clock.Now()); wait > 0 {
				pending, next = append(pending, consumerName(*cs)), reconcile.LowestRequeue(next, wait)
				continue
			}
			patched, err := c.restart(ctx, cs)
			if err != nil {
				return nil, 0, err
			}
			if patched {
				restarted = append(restarted, consumerName(*cs))
			}
		}
		if !cs.RolledOut {
			if cs.RolledOut, err = c.rolledOut(ctx, *cs, changedAt); err != nil {
				return nil, 0, err
			}
		}
		if !cs.RolledOut {
			pending, next = append(pending, consumerName(*cs)), reconcile.LowestRequeue(next, l.lookAgain(*cs, changedAt))
		}
	}
	if len(restarted) > 0 {
		metrics.ConsumersRestarted(len(restarted))
		l.Recorder.Eventf(c.token, nil, corev1.EventTypeNormal, tokensv1alpha1.ConsumersRestartedReason, "Restart",
			"restarted %s to load the new content of Secret %q", strings.Join(restarted, ", "), c.secret)
	}
	return pending, next, nil
}

// lookAgain is when a consumer still holding the previous content is looked at
// again: a mounted volume when the kubelet has refreshed it, others at the poll
// interval.
func (l lifecycle[T, M]) lookAgain(cs tokensv1alpha1.ConsumerStatus, changedAt time.Time) time.Duration {
	if cs.Action == tokensv1alpha1.ConsumerActionWait && cs.Reads == tokensv1alpha1.ConsumerReadsVolume {
		return max(changedAt.Add(l.Consumers.VolumeRefreshDelay).Sub(l.Clock.Now()), time.Second)
	}
	return l.Consumers.PollInterval
}

// recordConsumers sets ConsumersUpdated and tells whether the previous content
// is no longer waited for: every consumer has moved on, or maxOverlap has passed
// since the change, which a Warning event reports once, naming those left.
func (l lifecycle[T, M]) recordConsumers(obj T, c consumerRollout, pending []string) (settled bool) {
	status := obj.GetTokenStatus()
	if len(pending) == 0 {
		msg := fmt.Sprintf("no workload reads Secret %q", c.secret)
		if n := len(status.Consumers); n > 0 {
			msg = fmt.Sprintf("%d consumers of Secret %q hold its current content", n, c.secret)
		}
		reconcile.MarkTrue(obj, tokensv1alpha1.ConsumersUpdatedCondition, tokensv1alpha1.RolledOutReason, msg)
		return true
	}
	deadline := status.SecretChangedAt.Add(c.policy.maxOverlap)
	if l.Clock.Now().Before(deadline) {
		reconcile.MarkFalse(obj, tokensv1alpha1.ConsumersUpdatedCondition, tokensv1alpha1.RollingOutReason,
			fmt.Sprintf("waiting for %s to load the new content of Secret %q (at the latest until %s)",
				strings.Join(pending, ", "), c.secret, deadline.UTC().Format(time.RFC3339)))
		return false
	}
	msg := fmt.Sprintf("%s had not rolled out %s after Secret %q changed: no longer waiting for them, check why they do not roll out",
		strings.Join(pending, ", "), c.policy.maxOverlap, c.secret)
	if prev := meta.FindStatusCondition(obj.GetConditions(), tokensv1alpha1.ConsumersUpdatedCondition); prev == nil ||
		prev.Reason != tokensv1alpha1.ConsumersNotReadyReason {
		l.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, tokensv1alpha1.ConsumersNotReadyReason, "Rollout", "%s", msg)
	}
	reconcile.MarkFalse(obj, tokensv1alpha1.ConsumersUpdatedCondition, tokensv1alpha1.ConsumersNotReadyReason, msg)
	return true
}

// consumerName names a consumer in messages: "Deployment/web".
func consumerName(cs tokensv1alpha1.ConsumerStatus) string {
	return cs.Kind + "/" + cs.Name
}
