package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// createRemote mints the pair with /token/create, authenticated with the issuer's
// credentials: a login and password, or an access token holding ManageToken that
// is refreshed once when it has expired or is refused.
func (k *deviceAccessTokenKind) createRemote(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, accessExpires, refreshExpires time.Time) (devicehive.TokenPair, error) {
	spec := st.issuer.spec.DeviceHive
	if spec.CredentialsSecretRef == nil {
		return devicehive.TokenPair{}, reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s is in API mode but has no deviceHive.credentialsSecretRef", st.issuer))
	}
	name := spec.CredentialsSecretRef.Name
	secret, err := k.issuerSecret(ctx, dat, st, name)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	api, err := devicehive.New(devicehive.Config{URL: spec.URL, CABundle: spec.CABundle,
		InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify, Timeout: k.r.RemoteTimeout})
	if err != nil {
		return devicehive.TokenPair{}, reconcile.Stall(tokensv1alpha1.IssuerMismatchReason, fmt.Errorf("%s: %w", st.issuer, err))
	}
	login, password := string(secret.Data["login"]), devicehive.Secret(secret.Data["password"])
	bearer, refresh := devicehive.Secret(secret.Data["accessToken"]), devicehive.Secret(secret.Data["refreshToken"])
	rights := deviceAccessTokenRights(dat)
	switch {
	case login != "" && password != "":
		own, err := api.Login(ctx, login, password)
		if err != nil {
			return devicehive.TokenPair{}, deviceHiveError(st.issuer, name, fmt.Sprintf("failed to log in as %q", login), err)
		}
		bearer = own.AccessToken
	case bearer != "":
		if refresh != "" && expired(bearer, k.r.Clock.Now()) {
			if bearer, err = k.refreshBearer(ctx, api, st, name, refresh); err != nil {
				return devicehive.TokenPair{}, err
			}
			refresh = "" // refreshed once already
		}
	default:
		return devicehive.TokenPair{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("credentials Secret %q of %s has neither login and password nor accessToken", name, st.issuer))
	}
	pair, err := api.Create(ctx, bearer, rights, accessExpires, refreshExpires)
	if devicehive.IsUnauthorized(err) && refresh != "" {
		// An expired bearer is refused with a 401 page that does not say why.
		if bearer, err = k.refreshBearer(ctx, api, st, name, refresh); err != nil {
			return devicehive.TokenPair{}, err
		}
		pair, err = api.Create(ctx, bearer, rights, accessExpires, refreshExpires)
	}
	if err != nil {
		return devicehive.TokenPair{}, deviceHiveError(st.issuer, name, "failed to mint a pair", err)
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

// refreshBearer trades the issuer's refresh token for a new access token.
func (k *deviceAccessTokenKind) refreshBearer(ctx context.Context, api *devicehive.Client, st *tokenState, name string, refresh devicehive.Secret) (devicehive.Secret, error) {
	access, _, err := api.Refresh(ctx, refresh)
	if err != nil {
		return "", deviceHiveError(st.issuer, name, "failed to refresh the issuer's access token", err)
	}
	return access, nil
}

// expired tells whether an access token's own expiry has passed; a token that
// cannot be read is tried as it is.
func expired(token devicehive.Secret, now time.Time) bool {
	claims, err := devicehive.DecodeUnverified(token.Reveal())
	return err == nil && !claims.ExpiresAt.After(now)
}

// issuerSecret reads a Secret an issuer names: in the token's namespace for a
// TokenIssuer, in the operator's for a ClusterTokenIssuer. It is not one of the
// Secrets the operator owns, so it is read directly, and only when minting.
func (k *deviceAccessTokenKind) issuerSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, name string) (*corev1.Secret, error) {
	namespace := dat.Namespace
	if st.issuer.ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind {
		namespace = k.r.OperatorNamespace
	}
	secret := &corev1.Secret{}
	err := k.r.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("Secret %q of %s not found in namespace %q", name, st.issuer, namespace))
	}
	if err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q of %s: %w", name, st.issuer, err))
	}
	markCredentials(ctx, k.r.Client, secret)
	return secret, nil
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
