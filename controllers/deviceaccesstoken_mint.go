package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// deviceTokenPair is a pair just minted, and when it was issued.
type deviceTokenPair struct {
	devicehive.TokenPair
	issuedAt time.Time
	// keyVersion is the signing key Secret's resourceVersion, for an Offline pair.
	keyVersion string
}

// mint signs the pair offline, or mints it with /token/create, with the rights
// and lifetimes of the spec.
func (k *deviceAccessTokenKind) mint(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *tokenState) (deviceTokenPair, error) {
	// Status times hold whole seconds: so do the pair's, and they compare exactly.
	issuedAt := k.r.Clock.Now().UTC().Truncate(time.Second)
	if prev := dat.Status.IssuedAt; prev != nil && issuedAt.Equal(prev.Time) {
		// A pair carries no id: one minted in the same second as the previous,
		// with the same rights, would be the same pair. A second later, it is not.
		issuedAt = issuedAt.Add(time.Second)
	}
	accessExpires := issuedAt.Add(wholeSeconds(dat.Spec.AccessTokenLifetime.Duration))
	refreshExpires := issuedAt.Add(wholeSeconds(dat.Spec.RefreshTokenLifetime.Duration))
	var pair devicehive.TokenPair
	var keyVersion string
	var err error
	switch st.issuer.spec.DeviceHive.Mode {
	case tokensv1alpha1.DeviceHiveModeOffline:
		pair, keyVersion, err = k.signOffline(ctx, dat, st, accessExpires, refreshExpires)
	default:
		pair, err = k.createRemote(ctx, dat, st, accessExpires, refreshExpires)
	}
	return deviceTokenPair{TokenPair: pair, issuedAt: issuedAt, keyVersion: keyVersion}, err
}

func (k *deviceAccessTokenKind) secretFor(dat *tokensv1alpha1.DeviceAccessToken, _ *tokenState, minted deviceTokenPair) *corev1.Secret {
	return desiredDeviceAccessTokenSecret(dat, minted.AccessToken.Reveal(), minted.RefreshToken.Reveal(),
		minted.AccessExpiresAt, minted.RefreshExpiresAt)
}

// commit records the new pair's times in status. The previous pair cannot be
// revoked: the event says until when it stays valid.
func (k *deviceAccessTokenKind) commit(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, minted deviceTokenPair) mintEvent {
	previous := dat.Status.DeepCopy()
	dat.Status.IssuedAt = &metav1.Time{Time: minted.issuedAt}
	dat.Status.ExpiresAt = &metav1.Time{Time: minted.AccessExpiresAt}
	dat.Status.RefreshTokenExpiresAt = &metav1.Time{Time: minted.RefreshExpiresAt}
	revision := previous.Revision + 1
	mode := st.issuer.spec.DeviceHive.Mode
	dat.Status.MintedBy = &tokensv1alpha1.DeviceHiveMinter{URL: st.issuer.spec.DeviceHive.URL, Mode: mode, SigningKeyVersion: minted.keyVersion}
	event := mintEvent{}
	if previous.Revision == 0 || previous.ExpiresAt == nil || previous.RefreshTokenExpiresAt == nil {
		event.first = true
		event.note = fmt.Sprintf("minted pair %d for DeviceHive user %d (%s) into Secret %q; the access token expires at %s",
			revision, dat.Spec.UserID, mode, dat.Spec.Secret.Name, minted.AccessExpiresAt.Format(time.RFC3339))
		return event
	}
	event.note = fmt.Sprintf("pair %d replaced pair %d in Secret %q (%s); DeviceHive cannot revoke tokens, so the previous pair stays usable until its refresh token expires at %s (its access token expires at %s)",
		revision, previous.Revision, dat.Spec.Secret.Name, mode,
		previous.RefreshTokenExpiresAt.UTC().Format(time.RFC3339), previous.ExpiresAt.UTC().Format(time.RFC3339))
	return event
}

// signOffline signs the pair with the issuer's JWT secret: no remote call at all.
// It returns the signing key Secret's resourceVersion with the pair.
func (k *deviceAccessTokenKind) signOffline(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *tokenState, accessExpires, refreshExpires time.Time) (devicehive.TokenPair, string, error) {
	signer, secretName, version, err := k.issuer(dat, st).signer(ctx)
	if err != nil {
		return devicehive.TokenPair{}, "", err
	}
	pair, err := signer.Mint(deviceAccessTokenRights(dat), accessExpires, refreshExpires)
	if err != nil {
		return devicehive.TokenPair{}, "", deviceHiveError(st.issuer, secretName, "failed to sign a pair", err)
	}
	return pair, version, nil
}

// issuer is the token's DeviceHive issuer: a TokenIssuer's Secrets live in the
// token's namespace.
func (k *deviceAccessTokenKind) issuer(dat *tokensv1alpha1.DeviceAccessToken, st *tokenState) deviceHiveIssuer {
	return deviceHiveIssuer{TokenDeps: k.r.TokenDeps, issuer: st.issuer, namespace: dat.Namespace, operatorNamespace: k.r.OperatorNamespace,
		signers: k.r.signers}
}
