// Package schedule computes when a token is replaced, for every token kind.
package schedule

import (
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// DefaultRenewBeforePercentage renews a token when a third of its lifetime is
// left, as cert-manager does for certificates.
const DefaultRenewBeforePercentage = 33

// RenewalTime is when a token issued at issuedAt and expiring at expiresAt is
// replaced: the earliest of issuedAt + maxAge and expiresAt - renewBefore, where
// renewBefore is rotation.renewBefore (when shorter than the lifetime), or
// rotation.renewBeforePercentage (default 33) of the lifetime. maxAge is the effective one (the token's, capped by its
// issuer's policy); zero means none. A zero expiresAt means the token never expires.
func RenewalTime(issuedAt, expiresAt time.Time, rotation *tokensv1alpha1.Rotation, maxAge time.Duration) time.Time {
	var renewal time.Time
	if !expiresAt.IsZero() {
		renewal = expiresAt.Add(-renewBefore(issuedAt, expiresAt, rotation))
	}
	if maxAge > 0 {
		if byAge := issuedAt.Add(maxAge); renewal.IsZero() || byAge.Before(renewal) {
			renewal = byAge
		}
	}
	// Status keeps whole seconds: a fraction would make every pass write it again.
	return renewal.Truncate(time.Second)
}

func renewBefore(issuedAt, expiresAt time.Time, rotation *tokensv1alpha1.Rotation) time.Duration {
	lifetime := expiresAt.Sub(issuedAt)
	percentage := int64(DefaultRenewBeforePercentage)
	if rotation != nil {
		// A renewBefore as long as the lifetime the server gave (an AWX
		// administrator may shorten it) would renew at once, again and again: the
		// percentage decides instead.
		if rotation.RenewBefore != nil && rotation.RenewBefore.Duration < lifetime {
			return rotation.RenewBefore.Duration
		}
		if rotation.RenewBeforePercentage != nil {
			percentage = int64(*rotation.RenewBeforePercentage)
		}
	}
	return time.Duration(int64(lifetime) / 100 * percentage)
}

// EffectiveMaxAge is the token's rotation.maxAge capped by the policy's maxAge;
// zero means none. Policy checks refuse a token asking for more than the policy,
// so the cap matters only when the token sets none.
func EffectiveMaxAge(rotation *tokensv1alpha1.Rotation, policyMaxAge *time.Duration) time.Duration {
	var maxAge time.Duration
	if rotation != nil && rotation.MaxAge != nil {
		maxAge = rotation.MaxAge.Duration
	}
	if policyMaxAge != nil && (maxAge == 0 || *policyMaxAge < maxAge) {
		maxAge = *policyMaxAge
	}
	return maxAge
}
