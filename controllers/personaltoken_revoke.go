package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// revokeDue revokes the replaced tokens that are due, then the orphans when
// their sweep is due, and returns how long until the next of these.
func (k *personalTokenKind) revokeDue(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (time.Duration, error) {
	next, err := k.revokeReplacedDue(ctx, pt, st)
	if err != nil {
		return 0, err
	}
	sweep, err := k.sweepOrphansIfDue(ctx, pt, st)
	return reconcile.LowestRequeue(next, sweep), err
}

// revokeReplacedDue revokes the replaced tokens whose overlap has passed, once
// the Secret's consumers have moved on or, at the latest, at their revokeBy (a
// token already gone counts as revoked), and returns how long until the next one
// is due.
func (k *personalTokenKind) revokeReplacedDue(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (time.Duration, error) {
	now := k.r.Clock.Now()
	var next time.Duration
	for _, prev := range slices.Clone(pt.Status.PreviousTokens) {
		wait := prev.RevokeAt.Sub(now)
		waitsForConsumers := !st.consumersSettled && prev.RevokeBy != nil
		if waitsForConsumers {
			wait = max(wait, prev.RevokeBy.Sub(now))
		}
		if wait > 0 {
			next = reconcile.LowestRequeue(next, wait)
			continue
		}
		if err := k.revoke(ctx, pt, st, prev.ID, prev.UserID, prev.Endpoint); err != nil {
			return 0, err
		}
		if waitsForConsumers {
			k.warnRevokedBeforeRollout(pt, st, prev.ID)
		}
	}
	return next, nil
}

// revoke deletes one token at the endpoint that minted it and forgets it. owner is
// the AWX user the token belongs to (0: unknown). AWX answers 404 for another
// user's token, so only the owner's credentials can tell a revoked token from a
// hidden one.
func (k *personalTokenKind) revoke(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, id, owner int64, endpoint *tokensv1alpha1.AWXEndpoint) error {
	session, err := k.remoteAt(ctx, pt, st, endpoint)
	if err != nil {
		if current, _ := endpointOf(st.issuer); endpoint != nil && *endpoint != current && !isIssuerBusy(err) &&
			pt.Annotations[tokensv1alpha1.AbandonPreviousTokensAnnotation] == "true" {
			// The endpoint that minted it cannot be reached any more, and the user
			// chose to let it go.
			k.abandon(pt, id, owner, endpoint)
			return nil
		}
		return err
	}
	if owner != 0 && session.me.ID != owner {
		if pt.Annotations[tokensv1alpha1.AbandonPreviousTokensAnnotation] == "true" {
			k.abandon(pt, id, owner, endpoint)
			return nil
		}
		return reconcile.Stall(tokensv1alpha1.UserMismatchReason, fmt.Errorf(
			"token %d belongs to AWX user id %d but credentials Secret %q are for %q (id %d): restore that user's credentials so it can be revoked, or annotate %s=true to leave it alive",
			id, owner, pt.Spec.CredentialsSecretRef.Name, session.me.Username, session.me.ID, tokensv1alpha1.AbandonPreviousTokensAnnotation))
	}
	if err := deleteToken(ctx, session.api, id); err != nil {
		return awxError(pt, fmt.Sprintf("failed to revoke token %d", id), err)
	}
	pt.Status.PreviousTokens = slices.DeleteFunc(pt.Status.PreviousTokens, func(p tokensv1alpha1.PreviousToken) bool {
		return p.ID == id && sameEndpoint(p.Endpoint, endpoint)
	})
	if pt.Status.TokenID == id && sameEndpoint(pt.Status.Endpoint, endpoint) {
		pt.Status.TokenID = 0
	}
	k.r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.RevokedReason, "Revoke", "revoked token %d", id)
	return nil
}

// warnRevokedBeforeRollout says which consumers may still have held token id when
// its revokeBy came, unless the ConsumersUpdated condition already warned.
func (k *personalTokenKind) warnRevokedBeforeRollout(pt *tokensv1alpha1.PersonalToken, st *tokenState, id int64) {
	if c := meta.FindStatusCondition(pt.Status.Conditions, tokensv1alpha1.ConsumersUpdatedCondition); c != nil &&
		c.Reason == tokensv1alpha1.ConsumersNotReadyReason {
		return
	}
	holders := "consumers that could not be followed"
	if len(st.pendingConsumers) > 0 {
		holders = strings.Join(st.pendingConsumers, ", ")
	}
	k.r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.ConsumersNotReadyReason, "Revoke",
		"revoked token %d at its revokeBy although %s had not loaded Secret %q: check why they do not roll out", id, holders, pt.Spec.Secret.Name)
}

// abandon forgets a replaced token the credentials cannot revoke, as the user
// asked: it stays alive at AWX, which a Warning event says, with its id, for an
// AWX administrator to revoke.
func (k *personalTokenKind) abandon(pt *tokensv1alpha1.PersonalToken, id, owner int64, endpoint *tokensv1alpha1.AWXEndpoint) {
	metrics.Revocation(personalTokenKindName, metrics.RevocationAbandoned)
	pt.Status.PreviousTokens = slices.DeleteFunc(pt.Status.PreviousTokens, func(p tokensv1alpha1.PreviousToken) bool {
		return p.ID == id && sameEndpoint(p.Endpoint, endpoint)
	})
	k.r.Recorder.Eventf(pt, nil, corev1.EventTypeWarning, tokensv1alpha1.AbandonedReason, "Revoke",
		"abandoned token %d of AWX user id %d as %s asks: it stays alive at AWX until an administrator revokes it",
		id, owner, tokensv1alpha1.AbandonPreviousTokensAnnotation)
}

// deleteToken revokes token id at AWX and counts the outcome; a token already
// gone counts as revoked.
func deleteToken(ctx context.Context, api interface {
	DeleteToken(ctx context.Context, id int64) error
}, id int64) error {
	err := api.DeleteToken(ctx, id)
	switch {
	case isIssuerBusy(err):
		// Nothing was sent: no revocation to count.
	case err == nil:
		metrics.Revocation(personalTokenKindName, metrics.RevocationRevoked)
	case awx.IsGone(err):
		metrics.Revocation(personalTokenKindName, metrics.RevocationGone)
		return nil
	default:
		metrics.Revocation(personalTokenKindName, metrics.RevocationFailed)
	}
	return err
}

// pendingRevocations counts the replaced tokens still alive at AWX, and tells
// when the first is due at the latest: its revokeBy when consumers may hold it
// up, else its revokeAt.
func pendingRevocations(pt *tokensv1alpha1.PersonalToken) (int, time.Time) {
	var due time.Time
	for _, prev := range pt.Status.PreviousTokens {
		at := prev.RevokeAt.Time
		if prev.RevokeBy != nil {
			at = prev.RevokeBy.Time
		}
		if due.IsZero() || at.Before(due) {
			due = at
		}
	}
	return len(pt.Status.PreviousTokens), due
}
