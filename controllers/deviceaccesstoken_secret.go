package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// Keys of a DeviceAccessToken's Secret. The expiries are RFC 3339.
const (
	deviceAccessTokenKey          = "accessToken"
	deviceRefreshTokenKey         = "refreshToken"
	deviceAccessTokenExpiresAtKey = "accessTokenExpiresAt"
	deviceRefreshExpiresAtKey     = "refreshTokenExpiresAt"
)

// heldDevicePair is the pair a Secret holds, with the claims of its access token.
type heldDevicePair struct {
	access, refresh string
	claims          devicehive.Claims
}

// heldPair returns the pair a Secret holds, or nil when it holds none this
// operator wrote: the access token must match the hash annotation, a refresh token
// must be there, and the access token must read as a DeviceHive access JWT.
func heldPair(secret *corev1.Secret) *heldDevicePair {
	if secret == nil {
		return nil
	}
	access, refresh := secret.Data[deviceAccessTokenKey], secret.Data[deviceRefreshTokenKey]
	want := secret.Annotations[tokensv1alpha1.TokenHashAnnotation]
	if len(access) == 0 || len(refresh) == 0 || want == "" || hashOf(access) != want {
		return nil
	}
	claims, err := devicehive.DecodeUnverified(string(access))
	if err != nil || claims.Type == devicehive.RefreshTokenType {
		return nil
	}
	return &heldDevicePair{access: string(access), refresh: string(refresh), claims: claims}
}

// desiredDeviceAccessTokenSecret is the Secret that holds a pair.
func desiredDeviceAccessTokenSecret(dat *tokensv1alpha1.DeviceAccessToken, access, refresh string, accessExpires, refreshExpires time.Time) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: ownedSecretMeta(dat.Spec.Secret, dat.Namespace, map[string]string{
			tokensv1alpha1.TokenHashAnnotation: hashOf([]byte(access)),
		}),
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			deviceAccessTokenKey:          []byte(access),
			deviceRefreshTokenKey:         []byte(refresh),
			deviceAccessTokenExpiresAtKey: []byte(accessExpires.UTC().Format(time.RFC3339)),
			deviceRefreshExpiresAtKey:     []byte(refreshExpires.UTC().Format(time.RFC3339)),
		},
	}
}
