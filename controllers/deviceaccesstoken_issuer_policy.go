package controllers

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// Lifetimes a DeviceAccessToken may ask for when its issuer's policy sets none:
// DeviceHive cannot revoke a pair, so its lifetime is what limits a leak.
const (
	defaultMaxAccessTokenLifetime  = 24 * time.Hour
	defaultMaxRefreshTokenLifetime = 30 * 24 * time.Hour
)

// checkPolicy refuses a DeviceAccessToken that asks for more than its issuer
// allows, or whose rights DeviceHive would silently widen. It runs before any
// remote call or signature; the message names the offending field.
func (k *deviceAccessTokenKind) checkPolicy(dat *tokensv1alpha1.DeviceAccessToken, issuer resolvedIssuer) error {
	policy := issuer.policy()
	for _, check := range []func() error{
		func() error { return checkActions(dat.Spec.Actions, policy, issuer) },
		func() error { return checkReach(dat.Spec, policy, issuer) },
		func() error { return checkLifetimes(dat.Spec, policy, issuer) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	// Defence in depth beyond the CRD: the server would widen these rights.
	if err := deviceAccessTokenRights(dat).Validate(); err != nil {
		var re *devicehive.RightsError
		if errors.As(err, &re) {
			return fmt.Errorf("spec.%s: %s", re.Field, re.Reason)
		}
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

// checkActions refuses an action the policy does not list, and a privileged one
// it does not list by name.
func checkActions(actions []tokensv1alpha1.DeviceHiveAction, policy tokensv1alpha1.IssuerPolicy, issuer resolvedIssuer) error {
	for _, action := range actions {
		switch {
		case len(policy.AllowedActions) > 0 && !slices.Contains(policy.AllowedActions, action):
			return fmt.Errorf("spec.actions: %q is not allowed by %s (policy.allowedActions: %v)", action, issuer, policy.AllowedActions)
		case len(policy.AllowedActions) == 0 && devicehive.IsPrivileged(string(action)):
			return fmt.Errorf("spec.actions: %q is privileged and %s does not list it in policy.allowedActions: DeviceHive cannot revoke such a token, so an issuer must allow it by name", action, issuer)
		}
	}
	return nil
}

// checkReach refuses a user, network or device type the policy does not allow,
// and wildcards it does not allow.
func checkReach(spec tokensv1alpha1.DeviceAccessTokenSpec, policy tokensv1alpha1.IssuerPolicy, issuer resolvedIssuer) error {
	if issuer.ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind && len(policy.AllowedUserIDs) == 0 {
		// The CRD refuses such an issuer; one stored before that rule is refused here.
		return fmt.Errorf("spec.userId: %s sets no policy.allowedUserIds, so it serves no DeviceHive user: list the users it may mint for", issuer)
	}
	if user := strconv.FormatInt(spec.UserID, 10); !allows(policy.AllowedUserIDs, user) {
		return fmt.Errorf("spec.userId: %s is not allowed by %s (policy.allowedUserIds: %v)", user, issuer, policy.AllowedUserIDs)
	}
	if slices.Contains(spec.NetworkIDs, "*") && (policy.AllowWildcardNetworks == nil || !*policy.AllowWildcardNetworks) {
		return fmt.Errorf(`spec.networkIds: ["*"] is not allowed by %s (policy.allowWildcardNetworks is not true)`, issuer)
	}
	if slices.Contains(spec.DeviceTypeIDs, "*") && policy.AllowWildcardDeviceTypes != nil && !*policy.AllowWildcardDeviceTypes {
		return fmt.Errorf(`spec.deviceTypeIds: ["*"] is not allowed by %s (policy.allowWildcardDeviceTypes is false)`, issuer)
	}
	for _, id := range spec.NetworkIDs {
		if !allows(policy.AllowedNetworkIDs, id) {
			return fmt.Errorf("spec.networkIds: %q is not allowed by %s (policy.allowedNetworkIds: %v)", id, issuer, policy.AllowedNetworkIDs)
		}
	}
	for _, id := range spec.DeviceTypeIDs {
		if !allows(policy.AllowedDeviceTypeIDs, id) {
			return fmt.Errorf("spec.deviceTypeIds: %q is not allowed by %s (policy.allowedDeviceTypeIds: %v)", id, issuer, policy.AllowedDeviceTypeIDs)
		}
	}
	return nil
}

// allows tells whether an allow list (empty: everything; "*": everything) holds id.
func allows(allowed []string, id string) bool {
	return len(allowed) == 0 || slices.Contains(allowed, "*") || slices.Contains(allowed, id)
}

// checkLifetimes refuses lifetimes beyond the policy's caps (or the defaults),
// and an access token outliving its refresh token.
func checkLifetimes(spec tokensv1alpha1.DeviceAccessTokenSpec, policy tokensv1alpha1.IssuerPolicy, issuer resolvedIssuer) error {
	maxAccess, maxRefresh := defaultMaxAccessTokenLifetime, defaultMaxRefreshTokenLifetime
	if policy.MaxAccessTokenLifetime != nil {
		maxAccess = policy.MaxAccessTokenLifetime.Duration
	}
	if policy.MaxRefreshTokenLifetime != nil {
		maxRefresh = policy.MaxRefreshTokenLifetime.Duration
	}
	if spec.AccessTokenLifetime.Duration > maxAccess {
		return fmt.Errorf("spec.accessTokenLifetime: %s is longer than the %s allowed by %s (policy.maxAccessTokenLifetime)",
			spec.AccessTokenLifetime.Duration, maxAccess, issuer)
	}
	if spec.RefreshTokenLifetime.Duration > maxRefresh {
		return fmt.Errorf("spec.refreshTokenLifetime: %s is longer than the %s allowed by %s (policy.maxRefreshTokenLifetime)",
			spec.RefreshTokenLifetime.Duration, maxRefresh, issuer)
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
