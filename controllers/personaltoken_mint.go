package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// AWX shows a token's value once and keeps the token for about 1000 years, so a
// mint whose value is lost would leave an orphan unless it can be found again:
// the intent records a marker that the token's description carries (see
// personaltoken_marker.go), and recoverMint finds the token by it.

// personalTokenMint is a token AWX minted (or recovery found again), with its
// owner. value is empty for a recovered token, which its Secret already holds.
type personalTokenMint struct {
	token awx.Token
	value string
	owner awx.User
}

// prepareMint identifies the AWX user of the credentials, refuses another user
// than spec.user or one the issuer's policy does not allow, and records the
// intent: the marker, the user and the Secret.
func (k *personalTokenKind) prepareMint(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) error {
	session, err := k.remote(ctx, pt, st)
	if err != nil {
		return err
	}
	if err := checkUser(pt, session.me); err != nil {
		return err
	}
	if allowed := st.issuer.policy().AllowedUsers; len(allowed) > 0 && !slices.Contains(allowed, session.me.Username) {
		return reconcile.Stall(tokensv1alpha1.PolicyViolationReason, fmt.Errorf(
			"spec.credentialsSecretRef: Secret %q belongs to AWX user %q, which %s does not allow (policy.allowedUsers: %v)",
			pt.Spec.CredentialsSecretRef.Name, session.me.Username, st.issuer, allowed))
	}
	endpoint, _ := endpointOf(st.issuer)
	pt.Status.PendingMint = &tokensv1alpha1.PendingMint{Marker: newMarker(pt), StartedAt: metav1.NewTime(k.r.Clock.Now()),
		UserID: session.me.ID, SecretName: pt.Spec.Secret.Name, RotateAt: pt.Annotations[tokensv1alpha1.RotateAnnotation],
		Endpoint: &endpoint}
	return nil
}

// mint creates the token at AWX with the marker in its description. A refusal
// certainly created nothing, so the intent is dropped; any other failure may hide
// a token, which recovery looks for.
func (k *personalTokenKind) mint(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (personalTokenMint, error) {
	session, err := k.remote(ctx, pt, st)
	if err != nil {
		return personalTokenMint{}, err
	}
	created, err := session.api.CreateToken(ctx, awx.CreateRequest{
		Description: remoteDescription(pt.Spec.Description, pt.Status.PendingMint.Marker),
		Scopes:      scopeStrings(pt.Spec.Scopes),
	})
	if err != nil {
		// The next attempt asks AWX who the credentials are before it writes an
		// intent again: while AWX is down or refuses them, that fails first.
		k.r.credentials.forget(credentialsKey(pt))
		if definitelyNotCreated(err) {
			pt.Status.PendingMint = nil
			reconcile.Delete(pt, tokensv1alpha1.IssuingCondition)
		}
		return personalTokenMint{}, awxError(pt, "failed to mint a token", err)
	}
	owner := session.me
	if created.Token.UserID != 0 && created.Token.UserID != owner.ID {
		// The user came from what an earlier client learnt, and AWX now has
		// another under that name (made again): the token says whose it is.
		k.r.credentials.forget(credentialsKey(pt))
		owner.ID = created.Token.UserID
	}
	return personalTokenMint{token: created.Token, value: created.Value.Reveal(), owner: owner}, nil
}

func (k *personalTokenKind) secretFor(pt *tokensv1alpha1.PersonalToken, st *tokenState, minted personalTokenMint) *corev1.Secret {
	return desiredPersonalTokenSecret(pt, st.issuer.spec.AWX.URL, minted.token.ID, minted.value)
}

// commit records the new token in status and queues the previous one for
// revocation: after the overlap, once the consumers have moved on, and at the
// latest after maxOverlap.
func (k *personalTokenKind) commit(pt *tokensv1alpha1.PersonalToken, st *tokenState, minted personalTokenMint) mintEvent {
	now := k.r.Clock.Now()
	tok := minted.token
	previous := pt.Status.TokenID
	current, _ := endpointOf(st.issuer)
	previousAt, newAt := mintedEndpoint(pt, st.secret, current.API), mintedAt(pt, st)
	// The same id at another server is another token.
	if previous != 0 && (previous != tok.ID || !sameEndpoint(previousAt, newAt)) {
		var overlap time.Duration
		if pt.Spec.Rotation != nil && pt.Spec.Rotation.Overlap != nil {
			overlap = pt.Spec.Rotation.Overlap.Duration
		}
		revokeBy := metav1.NewTime(now.Add(max(overlap, consumerPolicyOf(pt.Spec.Consumers).maxOverlap)))
		pt.Status.PreviousTokens = append(pt.Status.PreviousTokens, tokensv1alpha1.PreviousToken{
			ID: previous, RevokeAt: metav1.NewTime(now.Add(overlap)), RevokeBy: &revokeBy, UserID: pt.Status.UserID,
			Endpoint: previousAt})
	}
	pt.Status.Endpoint = newAt
	issuedAt := tok.Created
	if issuedAt.IsZero() {
		issuedAt = now
	}
	pt.Status.TokenID = tok.ID
	pt.Status.UserID = minted.owner.ID
	pt.Status.User = minted.owner.Username
	pt.Status.Scopes = scopesOf(tok.Scopes)
	pt.Status.Description = tok.Description
	pt.Status.IssuedAt = &metav1.Time{Time: issuedAt}
	pt.Status.ExpiresAt = nil
	if !tok.Expires.IsZero() {
		pt.Status.ExpiresAt = &metav1.Time{Time: tok.Expires}
	}
	pt.Status.PendingMint = nil
	event := mintEvent{first: previous == 0}
	if event.first {
		event.note = fmt.Sprintf("minted token %d for AWX user %q into Secret %q", tok.ID, minted.owner.Username, pt.Spec.Secret.Name)
	} else {
		event.note = fmt.Sprintf("token %d replaced token %d in Secret %q", tok.ID, previous, pt.Spec.Secret.Name)
	}
	return event
}

// mintedAt is where the token being committed was minted: where its intent says,
// else where the issuer mints now.
func mintedAt(pt *tokensv1alpha1.PersonalToken, st *tokenState) *tokensv1alpha1.AWXEndpoint {
	if p := pt.Status.PendingMint; p != nil && p.Endpoint != nil {
		return p.Endpoint
	}
	if endpoint, known := endpointOf(st.issuer); known {
		return &endpoint
	}
	return nil
}
