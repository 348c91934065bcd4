package kubectltoken

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// deviceHiveFields are the claims of the access and refresh tokens, decoded
// without verifying their signature: the plugin holds no key, and the claims are
// what DeviceHive will grant.
func deviceHiveFields(field func(string, string), secret *corev1.Secret, now time.Time) {
	field("Value", hashCheck(secret, "access token"))
	for _, part := range []struct{ title, key string }{{"Access token", "accessToken"}, {"Refresh token", "refreshToken"}} {
		value, ok := secret.Data[part.key]
		if !ok {
			field(part.title, "<none>")
			continue
		}
		claims, err := devicehive.DecodeUnverified(string(value))
		if err != nil {
			// The decoder's errors name what is wrong, never the token.
			field(part.title, "cannot be decoded: "+err.Error())
			continue
		}
		field(part.title, "claims as DeviceHive reads them (signature not verified)")
		field("  Type", tokenType(claims.Type))
		field("  User", fmt.Sprint(claims.UserID))
		field("  Actions", actionNames(claims.ActionIDs))
		field("  Networks", orNone(strings.Join(claims.NetworkIDs, ", ")))
		field("  Device types", orNone(strings.Join(claims.DeviceTypeIDs, ", ")))
		field("  Expires", stamp(claims.ExpiresAt, now))
	}
}

func tokenType(t int) string {
	switch t {
	case devicehive.AccessTokenType:
		return "access"
	case devicehive.RefreshTokenType:
		return "refresh"
	}
	return fmt.Sprintf("unknown (%d)", t)
}

// actionNames spells the action ids by name; an empty list is every action to
// DeviceHive, which the reader must see.
func actionNames(ids []int) string {
	if len(ids) == 0 {
		return "<none>: DeviceHive grants every action to a token without actions"
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		name, ok := devicehive.ActionName(id)
		if !ok {
			name = fmt.Sprintf("unknown action %d", id)
		}
		names[i] = name
	}
	return strings.Join(names, ", ")
}
