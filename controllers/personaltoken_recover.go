package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

func (k *personalTokenKind) mintInterrupted(pt *tokensv1alpha1.PersonalToken) bool {
	return pt.Status.PendingMint != nil
}

// recoverMint finishes a mint that a crash or a lost reply interrupted: among the
// caller's own tokens (filtered by user id, so a superuser never touches another
// user's token), the one with the marker is returned to be committed if its
// Secret holds it, and deleted otherwise, as its value is lost for good.
func (k *personalTokenKind) recoverMint(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (*recovered[personalTokenMint], error) {
	// The cache may lag this process's own last writes: recover only from the
	// PersonalToken as it is now, never from a pending mint already finished.
	if err := ensureCurrent(ctx, k.r.APIReader, pt); err != nil {
		return nil, err
	}
	pending := pt.Status.PendingMint
	session, err := k.remoteAt(ctx, pt, st, pending.Endpoint)
	if err != nil {
		return nil, err
	}
	if pending.UserID != 0 && pending.UserID != session.me.ID {
		return nil, reconcile.Stall(tokensv1alpha1.UserMismatchReason, fmt.Errorf(
			"an interrupted mint may have left a token of AWX user id %d, but credentials Secret %q are for %q (id %d): restore that user's credentials so it can be found",
			pending.UserID, pt.Spec.CredentialsSecretRef.Name, session.me.Username, session.me.ID))
	}
	target := pending.SecretName
	if target == "" {
		target = pt.Spec.Secret.Name
	}
	tokens, err := session.api.ListTokens(ctx, awx.ListOptions{UserID: session.me.ID, DescriptionContains: pending.Marker,
		Keep: func(t awx.Token) bool { return t.UserID == session.me.ID && markerOf(t.Description) == pending.Marker }})
	if err != nil {
		return nil, awxError(pt, "failed to look for the token of an interrupted mint", err)
	}
	// The cache may lag the Secret written just before the interruption; deleting
	// the token it holds would leave a dead token in it.
	secret, err := k.freshSecret(ctx, pt, target)
	if err != nil {
		return nil, err
	}
	k.sweepDue = true
	for _, tok := range tokens {
		if _, held := heldValue(secret, tok.ID); held {
			return k.recovered(pt, st, tok, session.me, target, secret), nil
		}
	}
	// AWX finishes a create whose client gave up, and another process (a leader
	// hand-over) may be about to write the token it minted: until the create
	// cannot be running any more, a token not found, or not held, is waited for.
	if wait := pending.StartedAt.Add(lateCommitWindow(k.r.RemoteTimeout)).Sub(k.r.Clock.Now()); wait > 0 {
		return nil, reconcile.Wait(tokensv1alpha1.RecoveringMintReason, wait,
			fmt.Errorf("waiting %s for the token of an interrupted mint, which AWX may still be creating", wait.Round(time.Second)))
	}
	// The tokens listed carry the marker, and none is held: their values are lost.
	for _, tok := range tokens {
		if err := session.api.DeleteToken(ctx, tok.ID); err != nil && !awx.IsGone(err) {
			return nil, awxError(pt, fmt.Sprintf("failed to revoke token %d of an interrupted mint", tok.ID), err)
		}
		metrics.OrphanRevoked()
		k.r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.OrphanRevokedReason, "Revoke",
			"revoked token %d of an interrupted mint, whose value was lost", tok.ID)
	}
	pt.Status.PendingMint = nil
	reconcile.Delete(pt, tokensv1alpha1.IssuingCondition)
	if err := st.patcher.Patch(ctx, pt); err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to clear the interrupted mint: %w", err))
	}
	return nil, nil
}

// recovered is the token of an interrupted mint that its Secret holds, to commit.
func (k *personalTokenKind) recovered(pt *tokensv1alpha1.PersonalToken, st *tokenState, tok awx.Token, owner awx.User,
	target string, secret *corev1.Secret) *recovered[personalTokenMint] {
	if target == pt.Spec.Secret.Name {
		st.secret = secret
	}
	rotateAt := pt.Status.PendingMint.RotateAt
	if rotateAt == "" {
		// No annotation when the mint was decided (or an intent recorded before
		// the value was): what was handled before stays handled.
		rotateAt = pt.Status.LastHandledRotateAt
	}
	return &recovered[personalTokenMint]{token: personalTokenMint{token: tok, owner: owner}, secretName: target, rotateAt: rotateAt}
}

// lateCommitWindow is how long after a mint was decided its create may still
// commit at AWX: the client's timeout, plus as much again for the request's time
// in AWX's queues and a clock that runs a little apart. A create that commits
// later still is left to the orphan sweep.
func lateCommitWindow(remoteTimeout time.Duration) time.Duration {
	return 2 * remoteTimeout
}
