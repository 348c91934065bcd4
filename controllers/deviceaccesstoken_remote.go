package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// createRemote mints the pair with /token/create, authenticated with the issuer's
// credentials: a login and password, or an access token holding ManageToken that
// is refreshed once when it has expired or is refused.
func (k *deviceAccessTokenKind) createRemote(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, accessExpires, refreshExpires time.Time) (devicehive.TokenPair, error) {
	release, err := k.r.Budget.take(ctx, dat.Namespace, st.issuer)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	defer release()
	issuer := k.issuer(dat, st)
	creds, err := issuer.credentials(ctx)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	api, err := issuer.client()
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	bearer, refreshed, err := issuer.bearer(ctx, api, creds)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	rights := deviceAccessTokenRights(dat)
	pair, err := api.Create(ctx, bearer, rights, accessExpires, refreshExpires)
	if devicehive.IsUnauthorized(err) && creds.refresh != "" && !refreshed {
		// An expired bearer is refused with a 401 page that does not say why.
		if bearer, err = issuer.refreshBearer(ctx, api, creds); err != nil {
			return devicehive.TokenPair{}, err
		}
		pair, err = api.Create(ctx, bearer, rights, accessExpires, refreshExpires)
	}
	if err != nil {
		return devicehive.TokenPair{}, deviceHiveError(st.issuer, creds.secretName, "failed to mint a pair", err)
	}
	// Expiries other than those asked for would read as a lifetime change at the
	// next reconcile, and mint again and again. DeviceHive before 3.5.0 ignores
	// refreshExpiration and gives the refresh token the access token's expiry.
	if !pair.AccessExpiresAt.Equal(accessExpires) || !pair.RefreshExpiresAt.Equal(refreshExpires) {
		return devicehive.TokenPair{}, reconcile.Stall(tokensv1alpha1.RemoteRefusedReason, fmt.Errorf(
			"%s granted a pair expiring at %s (refresh %s) instead of %s (refresh %s), so it was discarded: "+
				"DeviceHive before 3.5.0 ignores refreshExpiration; upgrade it, or set spec.refreshTokenLifetime to spec.accessTokenLifetime",
			st.issuer, pair.AccessExpiresAt.UTC().Format(time.RFC3339), pair.RefreshExpiresAt.UTC().Format(time.RFC3339),
			accessExpires.UTC().Format(time.RFC3339), refreshExpires.UTC().Format(time.RFC3339)))
	}
	return pair, nil
}

// deviceHiveError maps a DeviceHive failure to how it is retried. Refusals the user
// must fix stall; failures that may pass are retried with backoff. The client's
// error texts never hold a token value.
func deviceHiveError(issuer resolvedIssuer, secretName, action string, err error) error {
	err = fmt.Errorf("%s: %w", action, err)
	var apiErr *devicehive.APIError
	var rightsErr *devicehive.RightsError
	var configErr *devicehive.ConfigError
	switch {
	case devicehive.IsUserLocked(err) && errors.As(err, &apiErr) && apiErr.Path == "/token":
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: the DeviceHive user of credentials Secret %q of %s is locked or disabled", err, secretName, issuer))
	case devicehive.IsUserLocked(err):
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: the DeviceHive user of spec.userId is locked or disabled: unlock it or choose another user", err))
	case devicehive.IsAccessDenied(err):
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: the credentials in Secret %q of %s need the ManageToken action", err, secretName, issuer))
	case devicehive.IsUnauthorized(err), devicehive.IsForbidden(err):
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: fix the credentials in Secret %q of %s", err, secretName, issuer))
	case devicehive.IsTransient(err) && devicehive.RetryAfterOf(err) > 0:
		// DeviceHive said when to come back: sooner would be refused.
		return reconcile.Wait(tokensv1alpha1.RemoteErrorReason, devicehive.RetryAfterOf(err), err)
	case devicehive.IsTransient(err):
		return reconcile.Fail(tokensv1alpha1.RemoteErrorReason, err)
	case errors.As(err, &apiErr) && (apiErr.StatusCode == 400 || apiErr.StatusCode == 404):
		return reconcile.Stall(tokensv1alpha1.RemoteRefusedReason, err)
	case errors.Is(err, devicehive.ErrRightsMismatch):
		return reconcile.Stall(tokensv1alpha1.RemoteRefusedReason, fmt.Errorf("%w: the pair was discarded", err))
	case errors.As(err, &rightsErr):
		return reconcile.Stall(tokensv1alpha1.PolicyViolationReason, err)
	case errors.As(err, &configErr):
		return reconcile.Stall(tokensv1alpha1.IssuerMismatchReason, fmt.Errorf("%w (%s)", err, issuer))
	}
	return reconcile.Fail(tokensv1alpha1.RemoteErrorReason, err)
}
