package devicehive

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func Test_DeriveKey(t *testing.T) {
	tests := []struct {
		name, secret, wantHex string
	}{
		{"spec vector: trailing incomplete group dropped", "devicehive", "75ebe271e862"},
		{"docker default", "secret", "b1e72b"},
		{"non-alphabet characters skipped", "de-vi_ce.hi ve\n", "75ebe271e862"},
		{"padding inside the text takes part in a group", "QQ==QQ==", "4141"},
		{"trailing newline", "c2VjcmV0\n", hex.EncodeToString([]byte("secret"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := DeriveKey(tt.secret)
			if err != nil {
				t.Fatalf("DeriveKey: %v", err)
			}
			if got := hex.EncodeToString(key); got != tt.wantHex {
				t.Fatalf("key = %s, want %s", got, tt.wantHex)
			}
		})
	}
}

func Test_DeriveKey_canonicalBase64MatchesStdEncoding(t *testing.T) {
	for n := 1; n <= 48; n++ {
		raw := make([]byte, n)
		_, _ = rand.Read(raw)
		secret := base64.StdEncoding.EncodeToString(raw)
		key, err := DeriveKey(secret)
		if err != nil {
			t.Fatalf("%d bytes: DeriveKey: %v", n, err)
		}
		if !bytes.Equal(key, raw) {
			t.Fatalf("%d bytes: key differs from base64.StdEncoding", n)
		}
	}
}

func Test_DeriveKey_refused(t *testing.T) {
	for name, secret := range map[string]string{
		"empty":                       "",
		"shorter than a group":        "abc",
		"no alphabet characters":      "!!!!-_-_",
		"only padding":                "==",
		"padding the server overruns": "AAA=A==",
		"a non-ASCII character":       "devicehiveé",
	} {
		t.Run(name, func(t *testing.T) {
			key, err := DeriveKey(secret)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "secret" {
				t.Fatalf("DeriveKey = %x, %v; want a *ConfigError on secret", key, err)
			}
			if secret != "" && strings.Contains(err.Error(), secret) {
				t.Fatalf("error quotes the secret: %v", err)
			}
		})
	}
}
