package devicehive_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

func benchSigner(b *testing.B) (*devicehive.Signer, devicehive.Rights, time.Time, time.Time) {
	b.Helper()
	s, err := devicehive.NewSigner("devicehive")
	if err != nil {
		b.Fatalf("NewSigner: %v", err)
	}
	return s, sensorRights(2), epoch.Add(time.Hour), epoch.Add(7 * 24 * time.Hour)
}

// BenchmarkSignerMint mints one access + refresh pair per op.
func BenchmarkSignerMint(b *testing.B) {
	s, r, access, refresh := benchSigner(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Mint(r, access, refresh); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawHMACSHA256 computes the two bare HMACs over the very signing
// inputs Mint signs: the floor that Mint's JSON, Base64 and validation sit on.
func BenchmarkRawHMACSHA256(b *testing.B) {
	s, r, access, refresh := benchSigner(b)
	pair, err := s.Mint(r, access, refresh)
	if err != nil {
		b.Fatal(err)
	}
	key, _ := devicehive.DeriveKey("devicehive")
	var inputs [2][]byte
	for i, tok := range []devicehive.Secret{pair.AccessToken, pair.RefreshToken} {
		v := tok.Reveal()
		inputs[i] = []byte(v[:strings.LastIndexByte(v, '.')])
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			h := hmac.New(sha256.New, key)
			h.Write(in)
			_ = h.Sum(nil)
		}
	}
}
