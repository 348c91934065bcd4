package controllers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// checkPersonalTokenPolicy refuses a PersonalToken that asks for more than its
// issuer allows. It runs before any remote call.
func checkPersonalTokenPolicy(pt *tokensv1alpha1.PersonalToken, issuer resolvedIssuer) error {
	if issuer.spec.AWX == nil {
		return fmt.Errorf("%s has no awx block: a PersonalToken needs an AWX issuer", issuer)
	}
	policy := issuer.policy()
	if len(policy.AllowedScopes) > 0 {
		for _, scope := range pt.Spec.Scopes {
			if !slices.Contains(policy.AllowedScopes, scope) {
				return fmt.Errorf("spec.scopes: %q is not allowed by %s (allowed: %v)", scope, issuer, policy.AllowedScopes)
			}
		}
	}
	if policy.MaxAge != nil && pt.Spec.Rotation != nil && pt.Spec.Rotation.MaxAge != nil &&
		pt.Spec.Rotation.MaxAge.Duration > policy.MaxAge.Duration {
		return fmt.Errorf("spec.rotation.maxAge: %s is longer than the %s allowed by %s",
			pt.Spec.Rotation.MaxAge.Duration, policy.MaxAge.Duration, issuer)
	}
	return nil
}

// personalTokenInput is what the decision to mint looks at, gathered once.
type personalTokenInput struct {
	token  *tokensv1alpha1.PersonalToken
	secret *corev1.Secret // the Secret holding the current token, nil when absent
	now    time.Time
	maxAge time.Duration // effective: the token's, capped by the issuer's policy
}

// mintTrigger says whether a new token must be minted, and why.
type mintTrigger func(in personalTokenInput) (reason, message string, hit bool)

// personalTokenMintTriggers are checked in order; the first hit wins.
var personalTokenMintTriggers = []mintTrigger{
	func(in personalTokenInput) (string, string, bool) {
		return tokensv1alpha1.DoesNotExistReason, "no token has been minted yet", in.token.Status.TokenID == 0
	},
	func(in personalTokenInput) (string, string, bool) {
		return tokensv1alpha1.SecretMissingReason,
			fmt.Sprintf("Secret %q that held token %d is gone", in.token.Status.SecretName, in.token.Status.TokenID),
			in.secret == nil
	},
	func(in personalTokenInput) (string, string, bool) {
		_, holds := heldValue(in.secret, in.token.Status.TokenID)
		return tokensv1alpha1.SecretMismatchReason,
			fmt.Sprintf("Secret %q no longer holds token %d (changed by hand?)", in.secret.Name, in.token.Status.TokenID),
			!holds
	},
	func(in personalTokenInput) (string, string, bool) {
		want := in.token.Spec.User
		return tokensv1alpha1.UserChangedReason,
			fmt.Sprintf("spec.user is %q but token %d belongs to %q", want, in.token.Status.TokenID, in.token.Status.User),
			want != "" && want != in.token.Status.User
	},
	func(in personalTokenInput) (string, string, bool) {
		value := in.token.Annotations[tokensv1alpha1.RotateAnnotation]
		return tokensv1alpha1.ManuallyTriggeredReason,
			fmt.Sprintf("rotation requested with %s=%q", tokensv1alpha1.RotateAnnotation, value),
			value != "" && value != in.token.Status.LastHandledRotateAt
	},
	func(in personalTokenInput) (string, string, bool) {
		renewal := personalTokenRenewalTime(in.token, in.maxAge)
		return tokensv1alpha1.RenewalDueReason,
			fmt.Sprintf("token %d reached its renewal time %s", in.token.Status.TokenID, renewal.Format(time.RFC3339)),
			!renewal.IsZero() && !in.now.Before(renewal)
	},
}

// mintReason runs the triggers; hit is false when the current token stays.
func mintReason(in personalTokenInput) (reason, message string, hit bool) {
	for _, trigger := range personalTokenMintTriggers {
		if reason, message, hit := trigger(in); hit {
			return reason, message, true
		}
	}
	return "", "", false
}

// personalTokenRenewalTime is when the current token is replaced.
func personalTokenRenewalTime(pt *tokensv1alpha1.PersonalToken, maxAge time.Duration) time.Time {
	if pt.Status.IssuedAt == nil {
		return time.Time{}
	}
	var expires time.Time
	if pt.Status.ExpiresAt != nil {
		expires = pt.Status.ExpiresAt.Time
	}
	return schedule.RenewalTime(pt.Status.IssuedAt.Time, expires, pt.Spec.Rotation, maxAge)
}

// The description of a minted token ends with a marker unique to the mint attempt,
// "[token-operator <namespace>/<name> <nonce>]": after a crash, the operator finds
// the token of an interrupted mint by it. It stays for the token's life, and tells
// an AWX administrator who manages the token.
const markerPrefix = "[token-operator "

// newMarker returns the marker of a new mint attempt.
func newMarker(pt *tokensv1alpha1.PersonalToken, nonce string) string {
	return fmt.Sprintf("%s%s/%s %s]", markerPrefix, pt.Namespace, pt.Name, nonce)
}

// remoteDescription is the description of a token at AWX, which trims white space.
func remoteDescription(description, marker string) string {
	description = strings.TrimSpace(description)
	if description == "" {
		return marker
	}
	return description + " " + marker
}

// markerOf returns the marker at the end of a remote description.
func markerOf(remote string) string {
	if i := strings.LastIndex(remote, markerPrefix); i >= 0 {
		return remote[i:]
	}
	return ""
}

// wantUpdate tells whether the live token's description or scopes differ from the
// spec, which AWX can change in place (no new token).
func wantUpdate(pt *tokensv1alpha1.PersonalToken) (description string, scopes []string, update bool) {
	description = remoteDescription(pt.Spec.Description, markerOf(pt.Status.Description))
	scopes = scopeStrings(pt.Spec.Scopes)
	return description, scopes, description != pt.Status.Description || !sameSet(scopes, scopeStrings(pt.Status.Scopes))
}

func scopeStrings(scopes []tokensv1alpha1.PersonalTokenScope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
