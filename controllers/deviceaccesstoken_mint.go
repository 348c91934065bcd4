package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// Minting a DeviceHive pair. Unlike AWX, DeviceHive has neither a list nor a
// revoke call, so there is no orphan to find after a crash and nothing to clean up:
// a pair whose Secret write was lost lives until its (short) expiry, and the next
// reconcile mints again. The steps:
//  1. Issuing is recorded under an optimistic lock, so a stale cache never mints;
//  2. the pair is signed offline, or minted with /token/create;
//  3. the Secret gets the pair;
//  4. commit: status gets the pair's times and a new revision.

// mint replaces the current pair (if any) with a new one.
func (r *DeviceAccessTokenReconciler) mint(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState, reason, message string) error {
	// A pair minted for a Secret that cannot be written would stay valid, unused.
	if _, err := r.secrets().claimable(ctx, dat, dat.Spec.Secret.Name); err != nil {
		return err
	}
	reconcile.MarkTrue(dat, tokensv1alpha1.IssuingCondition, reason, message)
	if err := st.patcher.Patch(ctx, dat); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to record the intent to mint (will retry): %w", err))
	}
	// An intent equal to the one already recorded writes nothing, so no lock
	// checked the cache: a pair minted from a stale spec could not be revoked.
	if err := ensureCurrent(ctx, r.APIReader, dat); err != nil {
		return err
	}
	// Status times hold whole seconds: so do the pair's, and they compare exactly.
	issuedAt := r.Clock.Now().UTC().Truncate(time.Second)
	accessExpires := issuedAt.Add(wholeSeconds(dat.Spec.AccessTokenLifetime.Duration))
	refreshExpires := issuedAt.Add(wholeSeconds(dat.Spec.RefreshTokenLifetime.Duration))

	var pair devicehive.TokenPair
	var err error
	switch st.issuer.spec.DeviceHive.Mode {
	case tokensv1alpha1.DeviceHiveModeOffline:
		pair, err = r.signOffline(ctx, dat, st, accessExpires, refreshExpires)
	default:
		pair, err = r.createRemote(ctx, dat, st, accessExpires, refreshExpires)
	}
	if err != nil {
		return err
	}

	desired := desiredDeviceAccessTokenSecret(dat, pair.AccessToken.Reveal(), pair.RefreshToken.Reveal(), pair.AccessExpiresAt, pair.RefreshExpiresAt)
	if err := r.secrets().write(ctx, dat, desired); err != nil {
		return err
	}
	st.minted = true
	if err := r.secrets().leaveOldSecret(ctx, dat, dat.Status.SecretName, dat.Spec.Secret.Name); err != nil {
		return err
	}
	return r.commit(ctx, dat, st, issuedAt, pair)
}

// commit records the new pair in status and tells the user. The previous pair
// cannot be revoked: the event says until when it stays valid.
func (r *DeviceAccessTokenReconciler) commit(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState, issuedAt time.Time, pair devicehive.TokenPair) error {
	previous := dat.Status.DeepCopy()
	dat.Status.IssuedAt = &metav1.Time{Time: issuedAt}
	dat.Status.ExpiresAt = &metav1.Time{Time: pair.AccessExpiresAt}
	dat.Status.RefreshTokenExpiresAt = &metav1.Time{Time: pair.RefreshExpiresAt}
	dat.Status.SecretName = dat.Spec.Secret.Name
	dat.Status.Revision++
	dat.Status.LastHandledRotateAt = dat.Annotations[tokensv1alpha1.RotateAnnotation]
	reconcile.Delete(dat, tokensv1alpha1.IssuingCondition)
	if err := st.patcher.Patch(ctx, dat); err != nil {
		return reconcile.Fail(reconcile.FailedReason,
			fmt.Errorf("failed to record pair %d (the next reconcile mints again): %w", dat.Status.Revision, err))
	}
	mode := st.issuer.spec.DeviceHive.Mode
	if previous.Revision == 0 || previous.ExpiresAt == nil || previous.RefreshTokenExpiresAt == nil {
		r.Recorder.Eventf(dat, nil, corev1.EventTypeNormal, tokensv1alpha1.IssuedReason, "Mint",
			"minted pair %d for DeviceHive user %d (%s) into Secret %q; the access token expires at %s",
			dat.Status.Revision, dat.Spec.UserID, mode, dat.Spec.Secret.Name, pair.AccessExpiresAt.Format(time.RFC3339))
		return nil
	}
	r.Recorder.Eventf(dat, nil, corev1.EventTypeNormal, tokensv1alpha1.RotatedReason, "Mint",
		"pair %d replaced pair %d in Secret %q (%s); DeviceHive cannot revoke tokens, so the previous pair stays usable until its refresh token expires at %s (its access token expires at %s)",
		dat.Status.Revision, previous.Revision, dat.Spec.Secret.Name, mode,
		previous.RefreshTokenExpiresAt.UTC().Format(time.RFC3339), previous.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// signOffline signs the pair with the issuer's JWT secret: no remote call at all.
func (r *DeviceAccessTokenReconciler) signOffline(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState, accessExpires, refreshExpires time.Time) (devicehive.TokenPair, error) {
	ref := st.issuer.spec.DeviceHive.SigningKeySecretRef
	if ref == nil {
		return devicehive.TokenPair{}, reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s is in Offline mode but has no deviceHive.signingKeySecretRef", st.issuer))
	}
	key := ref.Key
	if key == "" {
		key = "secret"
	}
	secret, err := r.issuerSecret(ctx, dat, st, ref.Name)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	value := secret.Data[key]
	if len(value) == 0 {
		return devicehive.TokenPair{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("signing key Secret %q of %s has no key %q", ref.Name, st.issuer, key))
	}
	signer, err := devicehive.NewSigner(string(value))
	if err != nil {
		// The error names what is wrong with the secret, never the secret.
		return devicehive.TokenPair{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("signing key %q in Secret %q of %s cannot be used: %w", key, ref.Name, st.issuer, err))
	}
	pair, err := signer.Mint(deviceAccessTokenRights(dat), accessExpires, refreshExpires)
	if err != nil {
		return devicehive.TokenPair{}, deviceHiveError(st.issuer, ref.Name, "failed to sign a pair", err)
	}
	return pair, nil
}

// createRemote mints the pair with /token/create, authenticated with the issuer's
// credentials: a login and password, or an access token holding ManageToken that
// is refreshed once when it has expired or is refused.
func (r *DeviceAccessTokenReconciler) createRemote(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState, accessExpires, refreshExpires time.Time) (devicehive.TokenPair, error) {
	spec := st.issuer.spec.DeviceHive
	if spec.CredentialsSecretRef == nil {
		return devicehive.TokenPair{}, reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s is in API mode but has no deviceHive.credentialsSecretRef", st.issuer))
	}
	name := spec.CredentialsSecretRef.Name
	secret, err := r.issuerSecret(ctx, dat, st, name)
	if err != nil {
		return devicehive.TokenPair{}, err
	}
	api, err := devicehive.New(devicehive.Config{URL: spec.URL, CABundle: spec.CABundle,
		InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify, Timeout: r.RemoteTimeout})
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
		if refresh != "" && expired(bearer, r.Clock.Now()) {
			if bearer, err = r.refreshBearer(ctx, api, st, name, refresh); err != nil {
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
		if bearer, err = r.refreshBearer(ctx, api, st, name, refresh); err != nil {
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
func (r *DeviceAccessTokenReconciler) refreshBearer(ctx context.Context, api *devicehive.Client, st *deviceAccessTokenState, name string, refresh devicehive.Secret) (devicehive.Secret, error) {
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
func (r *DeviceAccessTokenReconciler) issuerSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState, name string) (*corev1.Secret, error) {
	namespace := dat.Namespace
	if st.issuer.ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind {
		namespace = r.OperatorNamespace
	}
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("Secret %q of %s not found in namespace %q", name, st.issuer, namespace))
	}
	if err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q of %s: %w", name, st.issuer, err))
	}
	markCredentials(ctx, r.Client, secret)
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
