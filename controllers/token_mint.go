package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/reconcile"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// The minting protocol, the same for every kind (docs/architecture.md explains
// why it never leaves an orphan token). Each step leaves a state the next
// reconcile can finish, whatever the point at which the process dies:
//  1. the Secret is checked to be ours, so nothing is minted that cannot be
//     written;
//  2. intent: Issuing, and the kind's part of the intent (the marker of an AWX
//     token), are written under an optimistic lock, so a stale cache never mints;
//  3. the token is minted;
//  4. the Secret gets it;
//  5. commit: status records the new token, in the reconcile's one last status
//     write; the previous one waits for revocation where the kind can revoke.
//     Until that write lands, the intent recorded in 2 lets recovery commit it.

// mint replaces the current token (if any) with a new one, for the reason why.
func (l lifecycle[T, M]) mint(ctx context.Context, obj T, st *tokenState, why rotation.Decision) error {
	if err := st.issuer.checkReady(); err != nil {
		return err
	}
	secretName := obj.GetSecretTemplate().Name
	if _, err := st.secrets.claimable(ctx, obj, secretName); err != nil {
		return err
	}
	if preparer, ok := l.kind.(mintPreparer[T]); ok {
		if err := preparer.prepareMint(ctx, obj, st); err != nil {
			return err
		}
	}
	reconcile.MarkTrue(obj, tokensv1alpha1.IssuingCondition, why.Reason, why.Message)
	// kstatus (kubectl wait, Flux, Argo CD) reads a token being issued, or whose
	// mint was interrupted, as in progress.
	reconcile.MarkTrue(obj, tokensv1alpha1.ReconcilingCondition, why.Reason, "issuing a new token: "+why.Message)
	intentWritten := st.patcher.Changed(obj)
	if err := st.patcher.Patch(ctx, obj); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to record the intent to mint (will retry): %w", err))
	}
	// An intent equal to the one already recorded writes nothing, so no lock
	// checked the cache: a token minted from a stale spec may not be revocable.
	if !intentWritten {
		if err := ensureCurrent(ctx, l.APIReader, obj); err != nil {
			return err
		}
	}
	minted, err := l.kind.mint(ctx, obj, st)
	if err != nil {
		return err
	}
	secret := l.kind.secretFor(obj, st, minted)
	if err := st.secrets.write(ctx, obj, secret, st.secret); err != nil {
		return err
	}
	st.secretWritten, st.heldData = true, secret.Data
	return l.commit(ctx, obj, st, minted, secretName, why, obj.GetAnnotations()[tokensv1alpha1.RotateAnnotation])
}

// commit makes minted, held by Secret secretName, the current token: the Secret
// that held the previous one under another name is deleted, and status records
// the new token and the rotate annotation's value it answers, to be written with
// the rest of the reconcile's outcome; once it is, an Issued or Rotated event
// carries the trigger (announceCommit).
func (l lifecycle[T, M]) commit(ctx context.Context, obj T, st *tokenState, minted M, secretName string, why rotation.Decision, rotateAt string) error {
	status := obj.GetTokenStatus()
	if err := st.secrets.leaveOldSecret(ctx, obj, status.SecretName, secretName); err != nil {
		return err
	}
	if status.SecretVersion == "" && status.Revision > 0 {
		// The token being replaced may be held by consumers whose content was
		// never recorded (its reconcile's last write was lost): mark the content
		// as known, so that the new one counts as a change to restart them for.
		status.SecretVersion = unrecordedVersion
	}
	event := l.kind.commit(obj, st, minted)
	status.SecretName = secretName
	status.Revision++
	status.LastHandledRotateAt = rotateAt
	reconcile.Delete(obj, tokensv1alpha1.IssuingCondition)
	st.committed = &committed{event: event, why: why}
	return nil
}

// committed is a token committed in status, to announce once status is written.
type committed struct {
	event mintEvent
	why   rotation.Decision
}

// announceCommit sends the Issued or Rotated event, with the trigger, of the
// token this reconcile committed, once the status that records it is written:
// a write that failed leaves the commit to recovery, which announces it then.
func (l lifecycle[T, M]) announceCommit(obj T, st *tokenState) {
	if st.committed == nil || st.patcher.Changed(obj) {
		return
	}
	reason := tokensv1alpha1.RotatedReason
	if st.committed.event.first {
		reason = tokensv1alpha1.IssuedReason
	}
	note := st.committed.event.note
	if st.committed.why.Reason != "" {
		note += " (" + st.committed.why.Reason + ")"
	}
	l.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "Mint", "%s", note)
	metrics.Minted(l.kindName, st.committed.why.Reason)
}

// issuingDecision is the trigger an interrupted mint recorded in its Issuing
// condition; empty when there is none.
func issuingDecision(obj tokenObject) rotation.Decision {
	if c := meta.FindStatusCondition(obj.GetConditions(), tokensv1alpha1.IssuingCondition); c != nil {
		return rotation.Decision{Reason: c.Reason, Message: c.Message}
	}
	return rotation.Decision{}
}
