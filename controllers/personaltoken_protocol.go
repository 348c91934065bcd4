package controllers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// The minting protocol (DESIGN.md). AWX shows a token's value once and keeps the
// token for about 1000 years, so a mint whose value is lost leaves an orphan
// unless it can be found again. Every step leaves a state the next reconcile can
// finish, whatever the point at which the process dies:
//  1. intent: status.pendingMint records a unique marker, written under an
//     optimistic lock, so a stale cache never mints;
//  2. mint, with the marker in the token's description;
//  3. the Secret gets the value;
//  4. commit: status gets the new token, the old one waits for revocation.
// recoverMint finishes an interrupted mint: the marked token is kept if the
// Secret holds it, deleted otherwise.

// mint replaces the current token (if any) with a new one.
func (r *PersonalTokenReconciler) mint(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState, reason, message string) error {
	session, err := r.remote(ctx, pt, st)
	if err != nil {
		return err
	}
	if err := checkUser(pt, session.me); err != nil {
		return err
	}
	if _, err := r.secrets().claimable(ctx, pt, pt.Spec.Secret.Name); err != nil {
		return err
	}

	marker := newMarker(pt, nonce())
	pt.Status.PendingMint = &tokensv1alpha1.PendingMint{Marker: marker, StartedAt: metav1.NewTime(r.Clock.Now()),
		UserID: session.me.ID, SecretName: pt.Spec.Secret.Name}
	reconcile.MarkTrue(pt, tokensv1alpha1.IssuingCondition, reason, message)
	if err := st.patcher.Patch(ctx, pt); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to record the intent to mint (will retry): %w", err))
	}

	created, err := session.api.CreateToken(ctx, awx.CreateRequest{
		Description: remoteDescription(pt.Spec.Description, marker),
		Scopes:      scopeStrings(pt.Spec.Scopes),
	})
	if err != nil {
		if definitelyNotCreated(err) {
			pt.Status.PendingMint = nil
			reconcile.Delete(pt, tokensv1alpha1.IssuingCondition)
		}
		return awxError(pt, "failed to mint a token", err)
	}

	desired := desiredPersonalTokenSecret(pt, st.issuer.spec.AWX.URL, created.ID, created.Value.Reveal())
	if err := r.secrets().write(ctx, pt, desired); err != nil {
		return err
	}
	if err := r.secrets().leaveOldSecret(ctx, pt, pt.Status.SecretName, pt.Spec.Secret.Name); err != nil {
		return err
	}
	return r.commit(ctx, pt, st, created.Token, session.me, pt.Spec.Secret.Name)
}

// commit makes tok, held by Secret secretName, the current token and queues the
// previous one for revocation.
func (r *PersonalTokenReconciler) commit(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState, tok awx.Token, owner awx.User, secretName string) error {
	now := r.Clock.Now()
	previous := pt.Status.TokenID
	if previous != 0 && previous != tok.ID {
		overlap := metav1.Duration{}
		if pt.Spec.Rotation != nil && pt.Spec.Rotation.Overlap != nil {
			overlap = *pt.Spec.Rotation.Overlap
		}
		pt.Status.PreviousTokens = append(pt.Status.PreviousTokens,
			tokensv1alpha1.PreviousToken{ID: previous, RevokeAt: metav1.NewTime(now.Add(overlap.Duration)), UserID: pt.Status.UserID})
	}
	issuedAt := tok.Created
	if issuedAt.IsZero() {
		issuedAt = now
	}
	pt.Status.TokenID = tok.ID
	pt.Status.UserID = owner.ID
	pt.Status.User = owner.Username
	pt.Status.Scopes = scopesOf(tok.Scopes)
	pt.Status.Description = tok.Description
	pt.Status.SecretName = secretName
	pt.Status.IssuedAt = &metav1.Time{Time: issuedAt}
	pt.Status.ExpiresAt = nil
	if !tok.Expires.IsZero() {
		pt.Status.ExpiresAt = &metav1.Time{Time: tok.Expires}
	}
	pt.Status.Revision++
	pt.Status.PendingMint = nil
	pt.Status.LastHandledRotateAt = pt.Annotations[tokensv1alpha1.RotateAnnotation]
	reconcile.Delete(pt, tokensv1alpha1.IssuingCondition)
	if err := st.patcher.Patch(ctx, pt); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to record token %d (will recover it): %w", tok.ID, err))
	}
	if previous == 0 {
		r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.IssuedReason, "Mint",
			"minted token %d for AWX user %q into Secret %q", tok.ID, owner.Username, pt.Spec.Secret.Name)
	} else {
		r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.RotatedReason, "Mint",
			"token %d replaced token %d in Secret %q", tok.ID, previous, pt.Spec.Secret.Name)
	}
	return nil
}

// recoverMint finishes a mint that a crash or a lost reply interrupted: among the
// caller's own tokens (filtered by user id, so a superuser never touches another
// user's token), the one with the marker is kept if the Secret holds it, and
// deleted otherwise, as its value is lost for good.
func (r *PersonalTokenReconciler) recoverMint(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	// The cache may lag this process's own last writes: recover only from the
	// PersonalToken as it is now, never from a pending mint already finished.
	if err := ensureCurrent(ctx, r.APIReader, pt); err != nil {
		return err
	}
	session, err := r.remote(ctx, pt, st)
	if err != nil {
		return err
	}
	pending := pt.Status.PendingMint
	if pending.UserID != 0 && pending.UserID != session.me.ID {
		return reconcile.Stall(tokensv1alpha1.UserMismatchReason, fmt.Errorf(
			"an interrupted mint may have left a token of AWX user id %d, but credentials Secret %q are for %q (id %d): restore that user's credentials so it can be found",
			pending.UserID, pt.Spec.CredentialsSecretRef.Name, session.me.Username, session.me.ID))
	}
	target := pending.SecretName
	if target == "" {
		target = pt.Spec.Secret.Name
	}
	marker := pending.Marker
	tokens, err := session.api.ListTokens(ctx, awx.ListOptions{UserID: session.me.ID, DescriptionContains: marker})
	if err != nil {
		return awxError(pt, "failed to look for the token of an interrupted mint", err)
	}
	// The cache may lag the Secret written just before the interruption; deleting
	// the token it holds would leave a dead token in it.
	secret, err := r.freshSecret(ctx, pt, target)
	if err != nil {
		return err
	}
	for _, tok := range tokens {
		if markerOf(tok.Description) != marker || tok.UserID != session.me.ID {
			continue
		}
		if _, held := heldValue(secret, tok.ID); held {
			if target == pt.Spec.Secret.Name {
				st.secret = secret
			}
			if err := r.secrets().leaveOldSecret(ctx, pt, pt.Status.SecretName, target); err != nil {
				return err
			}
			return r.commit(ctx, pt, st, tok, session.me, target)
		}
		if err := session.api.DeleteToken(ctx, tok.ID); err != nil && !awx.IsNotFound(err) {
			return awxError(pt, fmt.Sprintf("failed to revoke token %d of an interrupted mint", tok.ID), err)
		}
		r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.OrphanRevokedReason, "Revoke",
			"revoked token %d of an interrupted mint, whose value was lost", tok.ID)
	}
	pt.Status.PendingMint = nil
	reconcile.Delete(pt, tokensv1alpha1.IssuingCondition)
	if err := st.patcher.Patch(ctx, pt); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to clear the interrupted mint: %w", err))
	}
	return nil
}

// updateInPlace changes the live token's description and scopes at AWX: no new
// token, the Secret stays as it is.
func (r *PersonalTokenReconciler) updateInPlace(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState, description string, scopes []string) error {
	session, err := r.remote(ctx, pt, st)
	if err != nil {
		return err
	}
	tok, err := session.api.UpdateToken(ctx, pt.Status.TokenID, awx.Update{Description: &description, Scopes: scopes})
	if awx.IsNotFound(err) {
		// Revoked behind our back: the Secret holds a dead token, so replace it.
		return r.mint(ctx, pt, st, tokensv1alpha1.SecretMismatchReason,
			fmt.Sprintf("token %d no longer exists at AWX", pt.Status.TokenID))
	}
	if err != nil {
		return awxError(pt, fmt.Sprintf("failed to update token %d", pt.Status.TokenID), err)
	}
	pt.Status.Description = tok.Description
	pt.Status.Scopes = scopesOf(tok.Scopes)
	r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.UpdatedReason, "Update",
		"updated the description and scopes %v of token %d in place", tok.Scopes, tok.ID)
	return nil
}

func scopesOf(scopes []string) []tokensv1alpha1.PersonalTokenScope {
	out := make([]tokensv1alpha1.PersonalTokenScope, len(scopes))
	for i, s := range scopes {
		out[i] = tokensv1alpha1.PersonalTokenScope(s)
	}
	return out
}

// nonce makes a marker unique to one mint attempt.
func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
