package controllers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
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
	claims, err := decodeDeviceHiveClaims(string(access))
	if err != nil || claims.Type == devicehive.RefreshTokenType {
		return nil
	}
	return &heldDevicePair{access: string(access), refresh: string(refresh), claims: claims}
}

// errUnreadableToken never quotes the token it is about.
var errUnreadableToken = errors.New("not a readable DeviceHive JWT")

// decodeDeviceHiveClaims reads the "payload" claim of a DeviceHive JWT without
// checking its signature: in API mode the operator has no key, and it only reads
// back what it wrote itself (the hash annotation says so). Errors never quote the
// token.
func decodeDeviceHiveClaims(token string) (devicehive.Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return devicehive.Claims{}, errUnreadableToken
	}
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	var decoded struct {
		Payload *struct {
			U  *int64   `json:"u"`
			A  []int    `json:"a"`
			N  []string `json:"n"`
			DT []string `json:"dt"`
			E  *int64   `json:"e"`
			T  *int     `json:"t"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &decoded) != nil || decoded.Payload == nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	p := decoded.Payload
	if p.U == nil || p.E == nil || p.T == nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	return devicehive.Claims{
		UserID:        *p.U,
		ActionIDs:     p.A,
		NetworkIDs:    p.N,
		DeviceTypeIDs: p.DT,
		ExpiresAt:     time.UnixMilli(*p.E).UTC(),
		Type:          *p.T,
	}, nil
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

// secrets writes the Secrets of DeviceAccessTokens.
func (r *DeviceAccessTokenReconciler) secrets() secretWriter {
	return secretWriter{client: r.Client, reader: r.APIReader, fieldOwner: DeviceAccessTokenControllerName, kind: "DeviceAccessToken"}
}
