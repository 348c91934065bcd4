package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
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
	session, err := k.remote(ctx, pt, st)
	if err != nil {
		return nil, err
	}
	pending := pt.Status.PendingMint
	if pending.UserID != 0 && pending.UserID != session.me.ID {
		return nil, reconcile.Stall(tokensv1alpha1.UserMismatchReason, fmt.Errorf(
			"an interrupted mint may have left a token of AWX user id %d, but credentials Secret %q are for %q (id %d): restore that user's credentials so it can be found",
			pending.UserID, pt.Spec.CredentialsSecretRef.Name, session.me.Username, session.me.ID))
	}
	target := pending.SecretName
	if target == "" {
		target = pt.Spec.Secret.Name
	}
	tokens, err := session.api.ListTokens(ctx, awx.ListOptions{UserID: session.me.ID, DescriptionContains: pending.Marker})
	if err != nil {
		return nil, awxError(pt, "failed to look for the token of an interrupted mint", err)
	}
	// The cache may lag the Secret written just before the interruption; deleting
	// the token it holds would leave a dead token in it.
	secret, err := k.freshSecret(ctx, pt, target)
	if err != nil {
		return nil, err
	}
	for _, tok := range tokens {
		if markerOf(tok.Description) != pending.Marker || tok.UserID != session.me.ID {
			continue
		}
		if _, held := heldValue(secret, tok.ID); held {
			if target == pt.Spec.Secret.Name {
				st.secret = secret
			}
			return &recovered[personalTokenMint]{token: personalTokenMint{token: tok, owner: session.me}, secretName: target}, nil
		}
		if err := session.api.DeleteToken(ctx, tok.ID); err != nil && !awx.IsNotFound(err) {
			return nil, awxError(pt, fmt.Sprintf("failed to revoke token %d of an interrupted mint", tok.ID), err)
		}
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
