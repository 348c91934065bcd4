package devicehive

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// libraryClaims is the server's claim set in its field order, as the JWT
// library encodes it: the reference the hand-built tokens must equal.
type libraryClaims struct {
	NoRegisteredClaims
	Payload struct {
		A  []int    `json:"a"`
		E  int64    `json:"e"`
		T  int      `json:"t"`
		U  int64    `json:"u"`
		N  []string `json:"n"`
		DT []string `json:"dt"`
	} `json:"payload"`
}

// TestSignToken_sameBytesAsTheJWTLibrary: a token assembled by hand is byte for
// byte the one golang-jwt signs for the same claims under the server's header,
// for empty, nil and escaped values too.
func TestSignToken_sameBytesAsTheJWTLibrary(t *testing.T) {
	key, err := DeriveKey("devicehive")
	if err != nil {
		t.Fatal(err)
	}
	macs := newMACPool(key)
	for _, tc := range []struct {
		name        string
		actions     []int
		networks    []string
		deviceTypes []string
	}{
		{"typical", []int{2, 5}, []string{"1", "3"}, []string{"*"}},
		{"nil lists", nil, nil, nil},
		{"empty lists", []int{}, []string{}, []string{}},
		{"values json escapes", []int{1}, []string{`a"b`, `<&>`, "é", "\x01"}, []string{`\`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, typ := range []int{AccessTokenType, RefreshTokenType} {
				var c libraryClaims
				c.Payload.A, c.Payload.E, c.Payload.T, c.Payload.U = tc.actions, 1_798_000_000_123, typ, 42
				c.Payload.N, c.Payload.DT = tc.networks, tc.deviceTypes
				tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
				delete(tok.Header, "typ")
				want, err := tok.SignedString(key)
				if err != nil {
					t.Fatal(err)
				}
				got := macs.signToken(appendClaims(nil, tc.actions, c.Payload.E, typ, 42, tc.networks, tc.deviceTypes))
				if got != want {
					t.Errorf("type %d:\n got %s\nwant %s", typ, got, want)
				}
			}
		})
	}
}
