package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// deviceAccessTokenKind plugs DeviceAccessTokens into the token lifecycle.
// DeviceHive can neither list nor revoke tokens, so the kind has no recovery,
// revocation or finalizer: a pair whose Secret write was lost lives until its
// (short) expiry, and the next reconcile mints again.
type deviceAccessTokenKind struct {
	r *DeviceAccessTokenReconciler
}

var _ tokenKind[*tokensv1alpha1.DeviceAccessToken, deviceTokenPair] = (*deviceAccessTokenKind)(nil)

func (k *deviceAccessTokenKind) rotationChain() rotation.Chain { return rotation.DeviceAccessToken }

// rotationInput gathers what the rotation chain looks at: the
// rights and lifetimes of the pair the Secret holds, besides what every kind has.
func (k *deviceAccessTokenKind) rotationInput(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, now time.Time) rotation.Input {
	s := dat.Status
	secret := st.secret
	in := rotationInputOf(dat, secret, now, st.maxAge)
	in.Noun, in.Subject = "pair", fmt.Sprintf("pair %d", s.Revision)
	in.Exists = s.Revision != 0 && s.IssuedAt != nil && s.ExpiresAt != nil && s.RefreshTokenExpiresAt != nil
	if !in.Exists {
		return in
	}
	pair := heldPair(secret)
	in.SecretHolds = pair != nil && pair.claims.ExpiresAt.Equal(s.ExpiresAt.Time)
	if pair != nil {
		in.RightsDiffer = deviceAccessTokenRights(dat).Mismatch(pair.claims)
	}
	in.MintedAt, in.IssuerAt = k.minters(dat, st, pair)
	in.HeldLifetimes = rotation.Lifetimes{Access: s.ExpiresAt.Sub(s.IssuedAt.Time), Refresh: s.RefreshTokenExpiresAt.Sub(s.IssuedAt.Time)}
	in.WantLifetimes = rotation.Lifetimes{
		Access:  wholeSeconds(dat.Spec.AccessTokenLifetime.Duration),
		Refresh: wholeSeconds(dat.Spec.RefreshTokenLifetime.Duration),
	}
	return in
}

// keptSecret rebuilds the Secret from the pair it holds, with the expiries of
// status.
func (k *deviceAccessTokenKind) keptSecret(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState) *corev1.Secret {
	pair := heldPair(st.secret)
	if pair == nil || dat.Status.ExpiresAt == nil || dat.Status.RefreshTokenExpiresAt == nil {
		return nil
	}
	return desiredDeviceAccessTokenSecret(dat, pair.access, pair.refresh, dat.Status.ExpiresAt.Time, dat.Status.RefreshTokenExpiresAt.Time)
}

func (k *deviceAccessTokenKind) readyMessage(dat *tokensv1alpha1.DeviceAccessToken) string {
	return fmt.Sprintf("pair %d for DeviceHive user %d is in Secret %q, access token expires at %s",
		dat.Status.Revision, dat.Spec.UserID, dat.Spec.Secret.Name, dat.Status.ExpiresAt.UTC().Format(time.RFC3339))
}

func (k *deviceAccessTokenKind) newObject() *tokensv1alpha1.DeviceAccessToken {
	return &tokensv1alpha1.DeviceAccessToken{}
}

func (k *deviceAccessTokenKind) issuerBlock() string { return issuerBlockDeviceHive }

// wholeSeconds is a lifetime as a pair is minted with it: status times hold whole
// seconds, so a pair is issued on a second and expires on one.
func wholeSeconds(d time.Duration) time.Duration { return d.Truncate(time.Second) }

// minters describes how the current pair was minted and how the issuer mints
// now, for the IssuerChanged trigger; both empty when either is unknown. A
// signing key counts as unchanged when its Secret is not in the credentials
// cache (before the operator has read it, or in a test without a cache), and
// when its Secret changed but the key still verifies the pair (a label was
// added, say): then the version the pair was checked against is recorded.
func (k *deviceAccessTokenKind) minters(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, pair *heldDevicePair) (minted, now string) {
	held := dat.Status.MintedBy
	if held == nil || st.issuer.spec.DeviceHive == nil {
		return "", ""
	}
	current := tokensv1alpha1.DeviceHiveMinter{URL: st.issuer.spec.DeviceHive.URL, Mode: st.issuer.spec.DeviceHive.Mode}
	if current.Mode == tokensv1alpha1.DeviceHiveModeOffline {
		current.SigningKeyVersion = held.SigningKeyVersion
		if version, known := k.signingKeyVersion(dat, st); known && version != held.SigningKeyVersion {
			current.SigningKeyVersion = version
			if pair != nil && held.Mode == current.Mode && held.URL == current.URL && k.stillSigns(dat, st, pair) {
				held.SigningKeyVersion = version
			}
		}
	}
	return describeMinter(*held), describeMinter(current)
}

// stillSigns tells whether the issuer's signing key, as the Secret's current
// version holds it, verifies the pair's access token: a Secret whose metadata
// alone changed keeps its pair.
func (k *deviceAccessTokenKind) stillSigns(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, pair *heldDevicePair) bool {
	ctx, cancel := context.WithTimeout(context.Background(), k.r.RemoteTimeout)
	defer cancel()
	signer, _, _, err := k.issuer(dat, st).signer(ctx)
	if err != nil {
		return false
	}
	_, err = signer.Parse(pair.access)
	return err == nil
}

// signingKeyVersion is the resourceVersion of the issuer's signing key Secret,
// as the credentials cache holds it.
func (k *deviceAccessTokenKind) signingKeyVersion(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState) (string, bool) {
	ref := st.issuer.spec.DeviceHive.SigningKeySecretRef
	if k.r.credentials == nil || ref == nil {
		return "", false
	}
	meta := metadataOf("Secret")
	// A read of the cache the credentials watch has started: it does not wait.
	key := client.ObjectKey{Namespace: k.issuer(dat, st).secretNamespace(), Name: ref.Name}
	if err := k.r.credentials.Get(context.Background(), key, meta); err != nil {
		return "", false
	}
	return meta.ResourceVersion, true
}

// describeMinter names how a pair is minted in messages.
func describeMinter(m tokensv1alpha1.DeviceHiveMinter) string {
	if m.Mode == tokensv1alpha1.DeviceHiveModeOffline {
		return fmt.Sprintf("Offline signer at %s (signing key Secret version %s)", m.URL, m.SigningKeyVersion)
	}
	return fmt.Sprintf("DeviceHive API at %s", m.URL)
}
