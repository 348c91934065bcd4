package controllers

import (
	"errors"
	"fmt"
	"slices"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// checkPolicy refuses a DeviceAccessToken that asks for more than
// its issuer allows, or whose rights DeviceHive would silently widen. It runs
// before any remote call or signature; the message names the offending field.
func (k *deviceAccessTokenKind) checkPolicy(dat *tokensv1alpha1.DeviceAccessToken, issuer resolvedIssuer) error {
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
