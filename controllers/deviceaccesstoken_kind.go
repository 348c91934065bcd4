package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

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
