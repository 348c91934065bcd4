package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// revokeDue revokes the replaced tokens whose overlap has passed (a token already
// gone counts as revoked) and returns how long until the next one is due.
func (r *PersonalTokenReconciler) revokeDue(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) (time.Duration, error) {
	now := r.Clock.Now()
	var next time.Duration
	for _, prev := range slices.Clone(pt.Status.PreviousTokens) {
		if wait := prev.RevokeAt.Sub(now); wait > 0 {
			next = reconcile.LowestRequeue(next, wait)
			continue
		}
		if err := r.revoke(ctx, pt, st, prev.ID, prev.UserID); err != nil {
			return 0, err
		}
	}
	return next, nil
}

// revoke deletes one token at AWX and forgets it. owner is the AWX user the token
// belongs to (0: unknown). AWX answers 404 for another user's token, so only the
// owner's credentials can tell a revoked token from a hidden one.
func (r *PersonalTokenReconciler) revoke(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState, id, owner int64) error {
	session, err := r.remote(ctx, pt, st)
	if err != nil {
		return err
	}
	if owner != 0 && session.me.ID != owner {
		return reconcile.Stall(tokensv1alpha1.UserMismatchReason, fmt.Errorf(
			"token %d belongs to AWX user id %d but credentials Secret %q are for %q (id %d): restore that user's credentials so it can be revoked",
			id, owner, pt.Spec.CredentialsSecretRef.Name, session.me.Username, session.me.ID))
	}
	if err := session.api.DeleteToken(ctx, id); err != nil && !awx.IsNotFound(err) {
		return awxError(pt, fmt.Sprintf("failed to revoke token %d", id), err)
	}
	pt.Status.PreviousTokens = slices.DeleteFunc(pt.Status.PreviousTokens, func(p tokensv1alpha1.PreviousToken) bool { return p.ID == id })
	if pt.Status.TokenID == id {
		pt.Status.TokenID = 0
	}
	r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.RevokedReason, "Revoke", "revoked token %d", id)
	return nil
}

// reconcileDelete runs when the PersonalToken is being deleted. With Revoke, every
// token it still owns is revoked (the current one, those waiting for their overlap,
// and one an interrupted mint may have left), then its Secret, which would hold a
// dead token, is deleted. With Retain, the tokens stay alive and the Secret is
// released from the PersonalToken so garbage collection keeps it. When revoking
// cannot succeed, the finalizer stays, the Ready condition says why, and the
// tokenoperator.io/release-finalizer annotation lets the deletion go on.
func (r *PersonalTokenReconciler) reconcileDelete(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	if !controllerutil.ContainsFinalizer(pt, PersonalTokenFinalizer) {
		return nil
	}
	switch {
	case pt.Annotations[tokensv1alpha1.ReleaseFinalizerAnnotation] == "true":
		r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.RevocationBlockedReason, "Delete",
			"released without revoking: tokens %v stay alive at AWX", ownedTokenIDs(pt))
	case pt.Spec.DeletionPolicy == tokensv1alpha1.DeletionPolicyRetain:
		// The current token stays with its Secret; replaced ones are revoked as due.
		if err := r.revokeReplaced(ctx, pt, st); err != nil {
			return blockedDeletion(err)
		}
		if err := r.releaseSecret(ctx, pt); err != nil {
			return err
		}
	default:
		if err := r.revokeReplaced(ctx, pt, st); err != nil {
			return blockedDeletion(err)
		}
		if id := pt.Status.TokenID; id != 0 {
			if err := r.revoke(ctx, pt, st, id, pt.Status.UserID); err != nil {
				return blockedDeletion(err)
			}
		}
		if err := r.secrets().delete(ctx, pt, pt.Spec.Secret.Name); err != nil {
			return err
		}
	}
	patch := client.MergeFrom(pt.DeepCopy())
	controllerutil.RemoveFinalizer(pt, PersonalTokenFinalizer)
	if err := r.Patch(ctx, pt, patch, client.FieldOwner(PersonalTokenControllerName)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to remove the finalizer: %w", err))
	}
	return nil
}

// revokeReplaced revokes the tokens the PersonalToken replaced and, first, finishes
// an interrupted mint, whose token is kept if its Secret holds it. The issuer is
// read whatever its policy says now: revoking needs no permission to mint.
func (r *PersonalTokenReconciler) revokeReplaced(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	issuer, err := getIssuer(ctx, r.Client, pt.Namespace, pt.Spec.IssuerRef)
	if err != nil {
		return err
	}
	if issuer.spec.AWX == nil {
		return reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s has no awx block any more, so the tokens cannot be revoked through it", issuer))
	}
	st.issuer = issuer
	if pt.Status.PendingMint != nil {
		if err := r.recoverMint(ctx, pt, st); err != nil {
			return err
		}
	}
	for _, prev := range slices.Clone(pt.Status.PreviousTokens) {
		if err := r.revoke(ctx, pt, st, prev.ID, prev.UserID); err != nil {
			return err
		}
	}
	return nil
}

// releaseSecret removes the PersonalToken's owner reference from its Secret, so
// the Secret and its live token outlive the PersonalToken.
func (r *PersonalTokenReconciler) releaseSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken) error {
	secret := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: pt.Spec.Secret.Name}, secret); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(secret, pt) {
		return nil
	}
	patch := client.MergeFrom(secret.DeepCopy())
	secret.OwnerReferences = slices.DeleteFunc(secret.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == pt.UID })
	if err := r.Patch(ctx, secret, patch, client.FieldOwner(PersonalTokenControllerName)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to release Secret %q: %w", secret.Name, err))
	}
	return nil
}

// ownedTokenIDs are the current token and those waiting for revocation.
func ownedTokenIDs(pt *tokensv1alpha1.PersonalToken) []int64 {
	var ids []int64
	if pt.Status.TokenID != 0 {
		ids = append(ids, pt.Status.TokenID)
	}
	for _, prev := range pt.Status.PreviousTokens {
		ids = append(ids, prev.ID)
	}
	return ids
}

// blockedDeletion says, in the error the user sees, how to let the deletion go on.
func blockedDeletion(err error) error {
	wrapped := fmt.Errorf("deletion waits to revoke the tokens: %w; fix it, or annotate %s=true to delete without revoking",
		err, tokensv1alpha1.ReleaseFinalizerAnnotation)
	if reconcile.ReasonOf(err) == tokensv1alpha1.AuthenticationFailedReason {
		return reconcile.StallAndRetry(tokensv1alpha1.RevocationBlockedReason, authRetryInterval, wrapped)
	}
	return reconcile.Fail(tokensv1alpha1.RevocationBlockedReason, wrapped)
}
