package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/metrics"
)

// orphanSweepInterval is how often, at most, a PersonalToken's orphan sweep runs
// when nothing else calls for it: one filtered list of the user's tokens.
const orphanSweepInterval = time.Hour

// orphanSweepRetry is when a sweep that failed is tried again.
const orphanSweepRetry = 5 * time.Minute

// An orphan is a token of the credentials' own AWX user whose description carries
// this PersonalToken's marker, and that is neither its current token, nor a
// replaced one waiting for revocation, nor the token of a pending mint: the token
// of a create AWX committed after the operator had given up on it, say. Nothing
// holds its value, so it can only be revoked.

// sweepOrphansIfDue runs the sweep after a mint or a recovery in this reconcile,
// or when the last one is an hour old, and returns when the next one is due.
func (k *personalTokenKind) sweepOrphansIfDue(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (time.Duration, error) {
	now := k.r.Clock.Now()
	if last := pt.Status.LastOrphanSweep; !k.sweepDue && !st.secretWritten && last != nil && now.Before(last.Add(orphanSweepInterval)) {
		return last.Add(orphanSweepInterval).Sub(now), nil
	}
	young, err := k.sweepOrphans(ctx, pt, st)
	switch {
	case err != nil:
		// The current token is fine: a failed sweep is tried again, not reported
		// as the token's failure.
		ctrl.LoggerFrom(ctx).Info("Could not look for orphan tokens; trying again later", "error", err.Error())
		pt.Status.LastOrphanSweep = nil
		return orphanSweepRetry, nil
	case young > 0:
		// Due again as soon as the young token can be told from one in flight.
		pt.Status.LastOrphanSweep = nil
		return young, nil
	}
	return orphanSweepInterval, nil
}

// sweepOrphans revokes the orphans of pt, with an OrphanRevoked event for each.
// Only the credentials' own user's tokens are listed (a superuser's list holds
// every user's), and only those with this PersonalToken's marker are touched. A
// token younger than a create can take is left for the next sweep, and reported
// (young): another process (a leader hand-over) may be about to record it.
func (k *personalTokenKind) sweepOrphans(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (young time.Duration, err error) {
	session, err := k.remote(ctx, pt, st)
	if err != nil {
		return 0, err
	}
	prefix := markerPrefixOf(pt)
	tokens, err := session.api.ListTokens(ctx, awx.ListOptions{UserID: session.me.ID, DescriptionContains: prefix,
		Keep: func(t awx.Token) bool {
			return t.UserID == session.me.ID && strings.HasPrefix(markerOf(t.Description), prefix)
		}})
	if err != nil {
		return 0, awxError(pt, "failed to look for orphan tokens", err)
	}
	// What this object holds must be read as it is now: a lagging cache could
	// miss a token just committed, by this process or a previous leader. A
	// reconcile that has written the object under its resourceVersion knows it.
	if !st.patcher.Wrote() {
		if err := ensureCurrent(ctx, k.r.APIReader, pt); err != nil {
			return 0, err
		}
	}
	keep := map[int64]bool{pt.Status.TokenID: true}
	for _, prev := range pt.Status.PreviousTokens {
		keep[prev.ID] = true
	}
	now := k.r.Clock.Now()
	// The list holds only the user's tokens that carry this object's marker.
	for _, tok := range tokens {
		switch {
		case keep[tok.ID]:
			continue
		case pt.Status.PendingMint != nil && markerOf(tok.Description) == pt.Status.PendingMint.Marker:
			continue
		case tok.Created.IsZero():
			// Its age cannot be told: it may be a token in flight.
			continue
		case now.Sub(tok.Created) < lateCommitWindow(k.r.RemoteTimeout):
			young = max(young, lateCommitWindow(k.r.RemoteTimeout)-now.Sub(tok.Created))
			continue
		}
		if err := session.api.DeleteToken(ctx, tok.ID); err != nil && !awx.IsGone(err) {
			return 0, awxError(pt, fmt.Sprintf("failed to revoke orphan token %d", tok.ID), err)
		}
		metrics.OrphanRevoked()
		k.r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.OrphanRevokedReason, "Revoke",
			"revoked token %d: it carries this PersonalToken's marker, but no Secret holds it", tok.ID)
	}
	pt.Status.LastOrphanSweep = &metav1.Time{Time: now}
	return young, nil
}

// markerPrefixOf is the start of every marker of pt's mints: "[token-operator
// <namespace>/<name> <uid> ", the spaces ending each part, so that no other
// PersonalToken, whose name starts the same or that had this name before, ever
// matches.
func markerPrefixOf(pt *tokensv1alpha1.PersonalToken) string {
	return fmt.Sprintf("%s%s/%s %s ", markerPrefix, pt.Namespace, pt.Name, pt.UID)
}
