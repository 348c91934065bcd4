package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// deviceHiveIssuer is a DeviceHive issuer as the issuer check and the
// DeviceAccessToken mint both use it: the Secrets it names, read directly (they
// are not the operator's, so not cached) and only when needed.
type deviceHiveIssuer struct {
	TokenDeps
	issuer resolvedIssuer
	// namespace holds a TokenIssuer's Secrets: its own; operatorNamespace holds a
	// ClusterTokenIssuer's.
	namespace, operatorNamespace string
	// signers, when not nil, serves the signer of a signing key Secret's
	// version read before.
	signers *secretVersions[signingKey]
}

// signingKey is the signer made from one key of a signing key Secret.
type signingKey struct {
	dataKey string
	signer  *devicehive.Signer
}

// deviceHiveCredentials are what an API-mode issuer's credentials Secret holds:
// a login and password, or an access token holding ManageToken, with a refresh
// token to renew it.
type deviceHiveCredentials struct {
	secretName       string
	login            string
	password, bearer devicehive.Secret
	refresh          devicehive.Secret
}

// secret reads a Secret the issuer names, and labels it so that the operator
// notices when it changes.
func (d deviceHiveIssuer) secret(ctx context.Context, name string) (*corev1.Secret, error) {
	namespace := d.secretNamespace()
	secret := &corev1.Secret{}
	err := d.APIReader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("Secret %q of %s not found in namespace %q", name, d.issuer, namespace))
	}
	if err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q of %s: %w", name, d.issuer, err))
	}
	markCredentials(ctx, d.Client, secret)
	return secret, nil
}

// secretNamespace is where the issuer's Secrets live.
func (d deviceHiveIssuer) secretNamespace() string {
	if d.issuer.ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind {
		return d.operatorNamespace
	}
	return d.namespace
}

// signer reads the signing key of an Offline issuer and checks that it can sign;
// it also returns the key Secret's name and resourceVersion. A version read
// before is served from signers.
func (d deviceHiveIssuer) signer(ctx context.Context) (signer *devicehive.Signer, secretName, version string, err error) {
	ref := d.issuer.spec.DeviceHive.SigningKeySecretRef
	if ref == nil {
		return nil, "", "", reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason,
			fmt.Errorf("%s is in Offline mode but has no deviceHive.signingKeySecretRef", d.issuer))
	}
	key := ref.Key
	if key == "" {
		key = "secret"
	}
	secretKey := types.NamespacedName{Namespace: d.secretNamespace(), Name: ref.Name}
	if v, current := d.signers.lookup(ctx, secretKey); current && v.value.dataKey == key {
		return v.value.signer, ref.Name, v.resourceVersion, nil
	}
	// Errors name the issuer: issuers sharing a key Secret read it each.
	read, err := d.signers.share(ctx, secretKey, d.issuer.String()+" "+key, nil, func() (readVersion[signingKey], error) {
		return d.readSigner(ctx, secretKey, key)
	})
	return read.value.signer, ref.Name, read.resourceVersion, err
}

// readSigner reads the signing key under key in Secret secretKey, unless the
// version the credentials cache shows was read before.
func (d deviceHiveIssuer) readSigner(ctx context.Context, secretKey types.NamespacedName, key string) (readVersion[signingKey], error) {
	if v, current := d.signers.lookup(ctx, secretKey); current && v.value.dataKey == key {
		return v, nil
	}
	secret, err := d.secret(ctx, secretKey.Name)
	if err != nil {
		return readVersion[signingKey]{}, err
	}
	if v, same := d.signers.remembered(secretKey, secret.ResourceVersion); same && v.value.dataKey == key {
		return v, nil
	}
	value := secret.Data[key]
	if len(value) == 0 {
		return readVersion[signingKey]{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("signing key Secret %q of %s has no key %q", secretKey.Name, d.issuer, key))
	}
	signer, err := devicehive.NewSigner(string(value))
	if err != nil {
		// The error names what is wrong with the key, never the key.
		return readVersion[signingKey]{}, reconcile.StallAndRetry(tokensv1alpha1.SigningKeyInvalidReason, credentialsRetryInterval,
			fmt.Errorf("signing key %q in Secret %q of %s cannot be used: %w; set it to the server's JWT_SECRET", key, secretKey.Name, d.issuer, err))
	}
	// Labelling the Secret made a version of it with the same data.
	read := readVersion[signingKey]{resourceVersion: secret.ResourceVersion, value: signingKey{dataKey: key, signer: signer}}
	d.signers.remember(secretKey, read.resourceVersion, read.value)
	return read, nil
}

// client returns a DeviceHive client for the issuer's URL.
func (d deviceHiveIssuer) client() (*devicehive.Client, error) {
	spec := d.issuer.spec.DeviceHive
	api, err := devicehive.New(devicehive.Config{URL: spec.URL, CABundle: spec.CABundle,
		InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify, Timeout: d.RemoteTimeout})
	if err != nil {
		return nil, reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason, fmt.Errorf("%s: %w", d.issuer, err))
	}
	return api, nil
}

// credentials reads the credentials of an API-mode issuer.
func (d deviceHiveIssuer) credentials(ctx context.Context) (deviceHiveCredentials, error) {
	ref := d.issuer.spec.DeviceHive.CredentialsSecretRef
	if ref == nil {
		return deviceHiveCredentials{}, reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason,
			fmt.Errorf("%s is in API mode but has no deviceHive.credentialsSecretRef", d.issuer))
	}
	secret, err := d.secret(ctx, ref.Name)
	if err != nil {
		return deviceHiveCredentials{}, err
	}
	creds := deviceHiveCredentials{secretName: ref.Name, login: string(secret.Data["login"]),
		password: devicehive.Secret(secret.Data["password"]), bearer: devicehive.Secret(secret.Data["accessToken"]),
		refresh: devicehive.Secret(secret.Data["refreshToken"])}
	if (creds.login == "" || creds.password == "") && creds.bearer == "" && creds.refresh == "" {
		return deviceHiveCredentials{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("credentials Secret %q of %s has neither login and password nor accessToken or refreshToken", ref.Name, d.issuer))
	}
	return creds, nil
}

// bearer returns an access token to call DeviceHive with: from a login, or the
// stored one, refreshed when it has expired. refreshed tells whether the refresh
// token was already used.
func (d deviceHiveIssuer) bearer(ctx context.Context, api *devicehive.Client, creds deviceHiveCredentials) (bearer devicehive.Secret, refreshed bool, err error) {
	switch {
	case creds.login != "" && creds.password != "":
		own, err := api.Login(ctx, creds.login, creds.password)
		if err != nil {
			return "", false, deviceHiveError(d.issuer, creds.secretName, fmt.Sprintf("failed to log in as %q", creds.login), err)
		}
		return own.AccessToken, false, nil
	case creds.refresh != "" && (creds.bearer == "" || expired(creds.bearer, d.Clock.Now())):
		bearer, err := d.refreshBearer(ctx, api, creds)
		return bearer, true, err
	case creds.bearer != "" && expired(creds.bearer, d.Clock.Now()):
		return "", false, reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("the accessToken in credentials Secret %q of %s has expired and there is no refreshToken to renew it", creds.secretName, d.issuer))
	}
	return creds.bearer, false, nil
}

// refreshBearer trades the issuer's refresh token for a new access token.
func (d deviceHiveIssuer) refreshBearer(ctx context.Context, api *devicehive.Client, creds deviceHiveCredentials) (devicehive.Secret, error) {
	access, _, err := api.Refresh(ctx, creds.refresh)
	if err != nil {
		return "", deviceHiveError(d.issuer, creds.secretName, "failed to refresh the issuer's access token", err)
	}
	return access, nil
}

// expired tells whether an access token's own expiry has passed; a token that
// cannot be read is tried as it is.
func expired(token devicehive.Secret, now time.Time) bool {
	claims, err := devicehive.DecodeUnverified(token.Reveal())
	return err == nil && !claims.ExpiresAt.After(now)
}
