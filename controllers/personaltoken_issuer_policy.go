package controllers

import (
	"fmt"
	"slices"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// checkPolicy refuses a PersonalToken that asks for more than its
// AWX issuer allows. It runs before any remote call; the message names the field.
func (k *personalTokenKind) checkPolicy(pt *tokensv1alpha1.PersonalToken, issuer resolvedIssuer) error {
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
