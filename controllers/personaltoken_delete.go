package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

func (k *personalTokenKind) finalizerName() string { return PersonalTokenFinalizer }

// finalize runs when the PersonalToken is being deleted. With Revoke, every
// token it still owns is revoked (the current one, those waiting for their overlap,
// and one an interrupted mint may have left), then its Secret, which would hold a
// dead token, is deleted. With Retain, the tokens stay alive and the Secret is
// released from the PersonalToken so garbage collection keeps it. When revoking
// cannot succeed, the finalizer stays, the Ready condition says why, and the
// tokenoperator.io/release-finalizer annotation lets the deletion go on.
func (k *personalTokenKind) finalize(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, recoverMint tokenStep[*tokensv1alpha1.PersonalToken]) error {
	switch {
	case pt.Annotations[tokensv1alpha1.ReleaseFinalizerAnnotation] == "true":
		k.r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.RevocationBlockedReason, "Delete",
			"released without revoking: tokens %v stay alive at AWX", ownedTokenIDs(pt))
		return nil
	case pt.Spec.DeletionPolicy == tokensv1alpha1.DeletionPolicyRetain:
		// The current token stays with its Secret; replaced ones are revoked as due.
		if err := k.revokeReplaced(ctx, pt, st, recoverMint); err != nil {
			if passing(err) || !k.namespaceTerminating(ctx, pt) {
				return blockedDeletion(err)
			}
			k.r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.RevocationBlockedReason, "Delete",
				"the namespace is being deleted and replaced tokens %v cannot be revoked (%v): they stay alive at AWX", ownedTokenIDs(pt), err)
			return nil
		}
		if err := k.sweepBeforeDeletion(ctx, pt, st); err != nil {
			return err
		}
		return k.releaseSecret(ctx, pt, st)
	}
	if err := k.revokeOwned(ctx, pt, st, recoverMint); err != nil {
		if passing(err) || !k.namespaceTerminating(ctx, pt) {
			return err
		}
		k.revokeAsTheNamespaceGoes(ctx, pt, st, err)
	}
	return st.secrets.delete(ctx, pt, pt.Spec.Secret.Name)
}

// revokeOwned revokes every token pt owns: an interrupted mint's, the replaced
// ones, the current one, and its orphans.
func (k *personalTokenKind) revokeOwned(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, recoverMint tokenStep[*tokensv1alpha1.PersonalToken]) error {
	if err := k.revokeReplaced(ctx, pt, st, recoverMint); err != nil {
		return blockedDeletion(err)
	}
	if id := pt.Status.TokenID; id != 0 {
		if err := k.revoke(ctx, pt, st, id, pt.Status.UserID, pt.Status.Endpoint); err != nil {
			return blockedDeletion(err)
		}
	}
	return k.sweepBeforeDeletion(ctx, pt, st)
}

// sweepBeforeDeletion revokes pt's orphans, and waits while one is too young to
// tell from a token another process is about to record: once pt is gone, no
// sweep would find it again.
func (k *personalTokenKind) sweepBeforeDeletion(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) error {
	if pt.Status.Revision == 0 && pt.Status.LastOrphanSweep == nil {
		// Nothing was ever minted, nor attempted past a recovery: no token can
		// carry this object's marker.
		return nil
	}
	young, err := k.sweepOrphans(ctx, pt, st)
	switch {
	case err != nil:
		return blockedDeletion(err)
	case young > 0:
		return reconcile.Wait(tokensv1alpha1.RecoveringMintReason, young,
			fmt.Errorf("waiting %s to revoke a token of this PersonalToken that AWX created moments ago", young.Round(time.Second)))
	}
	return nil
}

// revokeReplaced revokes the tokens the PersonalToken replaced and, first, finishes
// an interrupted mint, whose token is kept if its Secret holds it. The issuer is
// read whatever its policy says now: revoking needs no permission to mint.
func (k *personalTokenKind) revokeReplaced(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, recoverMint tokenStep[*tokensv1alpha1.PersonalToken]) error {
	issuer, err := getIssuer(ctx, k.r.Client, pt.Namespace, pt.Spec.IssuerRef)
	if err != nil {
		return err
	}
	if issuer.spec.AWX == nil {
		return reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s has no awx block any more, so the tokens cannot be revoked through it", issuer))
	}
	st.issuer = issuer
	if err := recoverMint(ctx, pt, st); err != nil {
		return err
	}
	for _, prev := range slices.Clone(pt.Status.PreviousTokens) {
		if err := k.revoke(ctx, pt, st, prev.ID, prev.UserID, prev.Endpoint); err != nil {
			return err
		}
	}
	return nil
}

// releaseSecret removes the PersonalToken's owner reference from its Secret, so
// the Secret and its live token outlive the PersonalToken.
func (k *personalTokenKind) releaseSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) error {
	secret, err := st.secrets.find(ctx, pt, pt.Spec.Secret.Name)
	if secret == nil || err != nil {
		return err
	}
	patch := client.MergeFrom(secret.DeepCopy())
	secret.OwnerReferences = slices.DeleteFunc(secret.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == pt.UID })
	if err := k.r.Patch(ctx, secret, patch, client.FieldOwner(PersonalTokenControllerName)); err != nil {
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

// passing tells whether err is a wait that ends by itself, soon: a token AWX
// may still be creating, or the issuer's turn. Nothing is blocked by it, and no
// deletion gives up on a token for it.
func passing(err error) bool {
	return waitingFor(err, tokensv1alpha1.RecoveringMintReason, tokensv1alpha1.IssuerBusyReason)
}

// blockedDeletion says, in the error the user sees, how to let the deletion go on.
func blockedDeletion(err error) error {
	if passing(err) {
		return err
	}
	wrapped := fmt.Errorf("deletion waits to revoke the tokens: %w; fix it, or annotate %s=true to delete without revoking",
		err, tokensv1alpha1.ReleaseFinalizerAnnotation)
	if reconcile.ReasonOf(err) == tokensv1alpha1.AuthenticationFailedReason {
		return reconcile.StallAndRetry(tokensv1alpha1.RevocationBlockedReason, authRetryInterval, wrapped)
	}
	return reconcile.Fail(tokensv1alpha1.RevocationBlockedReason, wrapped)
}

// namespaceTerminating tells whether pt's namespace is being deleted: its
// issuer, credentials and maybe AWX itself go in any order, and will not come
// back, so nothing may hold the deletion.
func (k *personalTokenKind) namespaceTerminating(ctx context.Context, pt *tokensv1alpha1.PersonalToken) bool {
	ns := metadataOf("Namespace")
	return k.r.APIReader.Get(ctx, client.ObjectKey{Name: pt.Namespace}, ns) == nil && !ns.DeletionTimestamp.IsZero()
}

// revokeAsTheNamespaceGoes does what can still be done once the namespace is
// going and revoking the usual way failed (why: its issuer, credentials or AWX
// are gone): the current token, which its Secret holds, revokes itself (a token
// with write scope may delete itself) at the endpoint that minted it, with the
// issuer's TLS settings when the issuer is still there. What remains alive is
// said in a Warning event, and the deletion goes on, so that the namespace can go.
func (k *personalTokenKind) revokeAsTheNamespaceGoes(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, why error) {
	remaining := ownedTokenIDs(pt)
	if id := pt.Status.TokenID; id != 0 && pt.Status.Endpoint != nil {
		secret, err := k.freshSecret(ctx, pt, pt.Spec.Secret.Name)
		value, held := heldValue(secret, id)
		if err == nil && !held {
			err = fmt.Errorf("Secret %q no longer holds it", pt.Spec.Secret.Name)
		}
		if err == nil {
			err = k.deleteWithOwnValue(ctx, st, *pt.Status.Endpoint, id, value)
		}
		if err == nil {
			remaining = slices.DeleteFunc(remaining, func(r int64) bool { return r == id })
			k.r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.RevokedReason, "Delete",
				"revoked token %d with its own value, as the namespace is being deleted", id)
		} else {
			why = errors.Join(why, fmt.Errorf("token %d could not revoke itself: %w", id, err))
		}
	}
	if len(remaining) > 0 {
		k.r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.RevocationBlockedReason, "Delete",
			"the namespace is being deleted and tokens %v cannot be revoked (%v): they stay alive at AWX until an administrator revokes them", remaining, why)
	}
}

// deleteWithOwnValue deletes token id at endpoint, authenticated as the token.
func (k *personalTokenKind) deleteWithOwnValue(ctx context.Context, st *tokenState, endpoint tokensv1alpha1.AWXEndpoint, id int64, value string) error {
	cfg := awx.Config{URL: endpoint.URL, API: awx.API(endpoint.API), Timeout: k.r.RemoteTimeout}
	if spec := st.issuer.spec.AWX; spec != nil {
		cfg.CABundle, cfg.InsecureSkipTLSVerify = spec.CABundle, spec.InsecureSkipTLSVerify
	}
	api, err := awx.New(cfg, awx.Credentials{Token: awx.Secret(value)})
	if err != nil {
		return err
	}
	return deleteToken(ctx, api, id)
}
