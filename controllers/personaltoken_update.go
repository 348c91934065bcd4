package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// updateInPlace changes the live token's description and scopes at AWX when they
// differ from the spec: no new token, the Secret stays as it is. A token revoked
// behind the operator's back leaves a dead token in the Secret, so it is replaced.
func (k *personalTokenKind) updateInPlace(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (*rotation.Decision, error) {
	description, scopes, update := wantUpdate(pt)
	if !update {
		return nil, nil
	}
	session, err := k.remote(ctx, pt, st)
	if err != nil {
		return nil, err
	}
	tok, err := session.api.UpdateToken(ctx, pt.Status.TokenID, awx.Update{Description: &description, Scopes: scopes})
	if awx.IsGone(err) {
		return &rotation.Decision{Reason: tokensv1alpha1.SecretMismatchReason,
			Message: fmt.Sprintf("token %d no longer exists at AWX", pt.Status.TokenID)}, nil
	}
	if err != nil {
		return nil, awxError(pt, fmt.Sprintf("failed to update token %d", pt.Status.TokenID), err)
	}
	pt.Status.Description = tok.Description
	pt.Status.Scopes = scopesOf(tok.Scopes)
	k.r.Recorder.Eventf(pt, nil, corev1.EventTypeNormal, tokensv1alpha1.UpdatedReason, "Update",
		"updated the description and scopes %v of token %d in place", tok.Scopes, tok.ID)
	return nil, nil
}

// wantUpdate tells whether the live token's description or scopes differ from the
// spec, which AWX can change in place (no new token).
func wantUpdate(pt *tokensv1alpha1.PersonalToken) (description string, scopes []string, update bool) {
	description = remoteDescription(pt.Spec.Description, markerOf(pt.Status.Description))
	scopes = scopeStrings(pt.Spec.Scopes)
	return description, scopes, description != pt.Status.Description ||
		!sets.New(scopes...).Equal(sets.New(scopeStrings(pt.Status.Scopes)...))
}

func scopeStrings(scopes []tokensv1alpha1.PersonalTokenScope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

func scopesOf(scopes []string) []tokensv1alpha1.PersonalTokenScope {
	out := make([]tokensv1alpha1.PersonalTokenScope, len(scopes))
	for i, s := range scopes {
		out[i] = tokensv1alpha1.PersonalTokenScope(s)
	}
	return out
}
