// Package schedule computes when a token is replaced, for every token kind.
package schedule

import (
	"hash/fnv"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// DefaultRenewBeforePercentage renews a token when a third of its lifetime is
// left, as cert-manager does for certificates.
const DefaultRenewBeforePercentage = 33

// maxRequeue bounds how long a healthy token waits before a (no-op) look.
const maxRequeue = 24 * time.Hour

// minRequeue keeps a token that is due from being looked at in a busy loop.
const minRequeue = time.Second

// Renewal is the one place that says when a token is replaced: every reader (the
// status, the rotation chain, the requeue) takes the time from here. It returns
// when the token whose times status records is renewed (zero: never, as for a
// token without expiry or maxAge, or one not minted yet) and how long until the
// reconcile that renews it: at the renewal, never at once, and at least once a
// day. maxAge is the effective one (see EffectiveMaxAge); zero means none. key
// identifies the token (its UID) for its jitter: see Jitter.
func Renewal(status *tokensv1alpha1.TokenStatus, rotation *tokensv1alpha1.Rotation, maxAge time.Duration, key string, now time.Time) (at time.Time, requeue time.Duration) {
	if status.IssuedAt == nil {
		return time.Time{}, maxRequeue
	}
	// Status keeps whole seconds: the times are taken as it will hold them, so
	// that the reconcile that sets them and the ones after agree to the second.
	issuedAt := status.IssuedAt.Truncate(time.Second)
	var expiresAt time.Time
	if status.ExpiresAt != nil {
		expiresAt = status.ExpiresAt.Truncate(time.Second)
	}
	at = renewalTime(issuedAt, expiresAt, rotation, maxAge)
	if at.IsZero() {
		return at, maxRequeue
	}
	at = at.Add(-Jitter(key, at.Sub(issuedAt)))
	return at, min(maxRequeue, max(at.Sub(now), minRequeue))
}

// renewalTime is when a token issued at issuedAt and expiring at expiresAt is
// replaced: the earliest of issuedAt + maxAge and expiresAt - renewBefore, where
// renewBefore is rotation.renewBefore (when shorter than the lifetime), or
// rotation.renewBeforePercentage (default 33) of the lifetime. A zero expiresAt
// means the token never expires; a zero maxAge means none.
func renewalTime(issuedAt, expiresAt time.Time, rotation *tokensv1alpha1.Rotation, maxAge time.Duration) time.Time {
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

// MaxJitter caps how much earlier than its settings say a token is renewed.
const MaxJitter = 30 * time.Minute

// Jitter is how much earlier than its rotation settings say the token key is
// renewed, when it is used for lifetime before its renewal: a share of up to a
// tenth of that, capped at MaxJitter, in whole seconds, fixed for the token (a
// hash of key; none without a key). Tokens created together, with the same settings, would
// otherwise all renew in the same second, and call their remote system at once.
// It is never later: the settings stay a promise about how old a token gets.
func Jitter(key string, lifetime time.Duration) time.Duration {
	window := min(lifetime/10, MaxJitter) / time.Second
	if key == "" || window <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration(h.Sum64()%uint64(window+1)) * time.Second
}
