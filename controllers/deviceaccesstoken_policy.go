package controllers

import (
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// checkDeviceAccessTokenPolicy refuses a DeviceAccessToken that asks for more than
// its issuer allows, or whose rights DeviceHive would silently widen. It runs
// before any remote call or signature; the message names the offending field.
func checkDeviceAccessTokenPolicy(dat *tokensv1alpha1.DeviceAccessToken, issuer resolvedIssuer) error {
	spec := dat.Spec
	policy := issuer.policy()
	for _, action := range spec.Actions {
		switch {
		case len(policy.AllowedActions) > 0 && !slices.Contains(policy.AllowedActions, action):
			return fmt.Errorf("spec.actions: %q is not allowed by %s (policy.allowedActions: %v)", action, issuer, policy.AllowedActions)
		case len(policy.AllowedActions) == 0 && devicehive.IsPrivileged(string(action)):
			return fmt.Errorf("spec.actions: %q is privileged and %s does not list it in policy.allowedActions: DeviceHive cannot revoke such a token, so an issuer must allow it by name", action, issuer)
		}
	}
	if slices.Contains(spec.NetworkIDs, "*") && (policy.AllowWildcardNetworks == nil || !*policy.AllowWildcardNetworks) {
		return fmt.Errorf(`spec.networkIds: ["*"] is not allowed by %s (policy.allowWildcardNetworks is not true)`, issuer)
	}
	if slices.Contains(spec.DeviceTypeIDs, "*") && policy.AllowWildcardDeviceTypes != nil && !*policy.AllowWildcardDeviceTypes {
		return fmt.Errorf(`spec.deviceTypeIds: ["*"] is not allowed by %s (policy.allowWildcardDeviceTypes is false)`, issuer)
	}
	if limit := policy.MaxAccessTokenLifetime; limit != nil && spec.AccessTokenLifetime.Duration > limit.Duration {
		return fmt.Errorf("spec.accessTokenLifetime: %s is longer than the %s allowed by %s (policy.maxAccessTokenLifetime)",
			spec.AccessTokenLifetime.Duration, limit.Duration, issuer)
	}
	if limit := policy.MaxRefreshTokenLifetime; limit != nil && spec.RefreshTokenLifetime.Duration > limit.Duration {
		return fmt.Errorf("spec.refreshTokenLifetime: %s is longer than the %s allowed by %s (policy.maxRefreshTokenLifetime)",
			spec.RefreshTokenLifetime.Duration, limit.Duration, issuer)
	}
	// Defence in depth beyond the CRD: the server would widen these rights.
	if err := deviceAccessTokenRights(dat).Validate(); err != nil {
		var re *devicehive.RightsError
		if errors.As(err, &re) {
			return fmt.Errorf("spec.%s: %s", re.Field, re.Reason)
		}
		return fmt.Errorf("spec: %w", err)
	}
	if spec.AccessTokenLifetime.Duration < time.Minute || spec.RefreshTokenLifetime.Duration < spec.AccessTokenLifetime.Duration {
		return fmt.Errorf("spec.accessTokenLifetime (%s) must be at least 1m and at most spec.refreshTokenLifetime (%s)",
			spec.AccessTokenLifetime.Duration, spec.RefreshTokenLifetime.Duration)
	}
	return nil
}

// deviceAccessTokenRights are the rights the spec asks for.
func deviceAccessTokenRights(dat *tokensv1alpha1.DeviceAccessToken) devicehive.Rights {
	actions := make([]string, len(dat.Spec.Actions))
	for i, a := range dat.Spec.Actions {
		actions[i] = string(a)
	}
	return devicehive.Rights{
		UserID:        dat.Spec.UserID,
		Actions:       actions,
		NetworkIDs:    dat.Spec.NetworkIDs,
		DeviceTypeIDs: dat.Spec.DeviceTypeIDs,
	}
}

// deviceAccessTokenInput is what the decision to mint looks at, gathered once.
type deviceAccessTokenInput struct {
	token  *tokensv1alpha1.DeviceAccessToken
	secret *corev1.Secret  // the Secret at spec.secret.name, nil when absent
	pair   *heldDevicePair // the pair that Secret holds, nil when none of ours
	now    time.Time
	maxAge time.Duration // from spec.rotation.maxAge; zero means none
}

// deviceAccessTokenMintTriggers are checked in order; the first hit wins.
var deviceAccessTokenMintTriggers = []func(in deviceAccessTokenInput) (reason, message string, hit bool){
	func(in deviceAccessTokenInput) (string, string, bool) {
		s := in.token.Status
		return tokensv1alpha1.DoesNotExistReason, "no pair has been minted yet",
			s.Revision == 0 || s.IssuedAt == nil || s.ExpiresAt == nil || s.RefreshTokenExpiresAt == nil
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		message := fmt.Sprintf("Secret %q that held pair %d is gone", in.token.Spec.Secret.Name, in.token.Status.Revision)
		if old := in.token.Status.SecretName; old != "" && old != in.token.Spec.Secret.Name {
			message = fmt.Sprintf("spec.secret.name changed from %q to %q", old, in.token.Spec.Secret.Name)
		}
		return tokensv1alpha1.SecretMissingReason, message, in.secret == nil
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		return tokensv1alpha1.SecretMismatchReason,
			fmt.Sprintf("Secret %q no longer holds pair %d (changed by hand?)", in.secret.Name, in.token.Status.Revision),
			in.pair == nil || !in.pair.claims.ExpiresAt.Equal(in.token.Status.ExpiresAt.Time)
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		field := deviceAccessTokenRights(in.token).Mismatch(in.pair.claims)
		return tokensv1alpha1.RightsChangedReason,
			fmt.Sprintf("spec.%s differs from the rights of pair %d", field, in.token.Status.Revision),
			field != ""
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		s, spec := in.token.Status, in.token.Spec
		access, refresh := s.ExpiresAt.Sub(s.IssuedAt.Time), s.RefreshTokenExpiresAt.Sub(s.IssuedAt.Time)
		return tokensv1alpha1.LifetimeChangedReason,
			fmt.Sprintf("pair %d lives %s (refresh %s) but the spec asks for %s (refresh %s)", s.Revision, access, refresh,
				spec.AccessTokenLifetime.Duration, spec.RefreshTokenLifetime.Duration),
			access != wholeSeconds(spec.AccessTokenLifetime.Duration) || refresh != wholeSeconds(spec.RefreshTokenLifetime.Duration)
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		value := in.token.Annotations[tokensv1alpha1.RotateAnnotation]
		return tokensv1alpha1.ManuallyTriggeredReason,
			fmt.Sprintf("rotation requested with %s=%q", tokensv1alpha1.RotateAnnotation, value),
			value != "" && value != in.token.Status.LastHandledRotateAt
	},
	func(in deviceAccessTokenInput) (string, string, bool) {
		renewal := deviceAccessTokenRenewalTime(in.token, in.maxAge)
		return tokensv1alpha1.RenewalDueReason,
			fmt.Sprintf("pair %d reached its renewal time %s", in.token.Status.Revision, renewal.UTC().Format(time.RFC3339)),
			!renewal.IsZero() && !in.now.Before(renewal)
	},
}

// deviceAccessTokenMintReason runs the triggers; hit is false when the current
// pair stays.
func deviceAccessTokenMintReason(in deviceAccessTokenInput) (reason, message string, hit bool) {
	for _, trigger := range deviceAccessTokenMintTriggers {
		if reason, message, hit := trigger(in); hit {
			return reason, message, true
		}
	}
	return "", "", false
}

// deviceAccessTokenRenewalTime is when the current pair is replaced.
func deviceAccessTokenRenewalTime(dat *tokensv1alpha1.DeviceAccessToken, maxAge time.Duration) time.Time {
	if dat.Status.IssuedAt == nil || dat.Status.ExpiresAt == nil {
		return time.Time{}
	}
	return schedule.RenewalTime(dat.Status.IssuedAt.Time, dat.Status.ExpiresAt.Time, dat.Spec.Rotation, maxAge)
}

// wholeSeconds is a lifetime as a pair is minted with it: status times hold whole
// seconds, so a pair is issued on a second and expires on one.
func wholeSeconds(d time.Duration) time.Duration { return d.Truncate(time.Second) }
