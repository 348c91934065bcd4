package devicehive

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer mints DeviceHive tokens offline with the key derived from the
// server's JWT secret: the server checks tokens statelessly, so any token
// signed with that key is as good as one it minted.
type Signer struct {
	key    []byte
	macs   *macPool
	parser *jwt.Parser
}

// NewSigner derives the signing key from the server's JWT secret (JWT_SECRET
// or the jwt.secret configuration row) as the server does; see DeriveKey.
func NewSigner(secret string) (*Signer, error) {
	key, err := DeriveKey(secret)
	if err != nil {
		return nil, err
	}
	return &Signer{
		key:  key,
		macs: newMACPool(key),
		// The server never mints anything but HS256; reading back anything
		// else would mean the token is not one of ours.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation()),
	}, nil
}

// String hides the key.
func (s Signer) String() string { return "devicehive.Signer{key: " + redacted + "}" }

// GoString hides the key from %#v.
func (s Signer) GoString() string { return s.String() }

// Format hides the key from every verb; without it %d or %x would print the
// key's bytes.
func (s Signer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// Mint signs an access token (t: 1) and a refresh token (t: 0) with the same
// rights, expiring at the given times (kept to the millisecond, as the "e"
// claim holds them). Rights are validated first.
func (s *Signer) Mint(r Rights, accessExpiresAt, refreshExpiresAt time.Time) (TokenPair, error) {
	if err := r.Validate(); err != nil {
		return TokenPair{}, err
	}
	if accessExpiresAt.IsZero() || refreshExpiresAt.IsZero() {
		return TokenPair{}, errors.New("devicehive: mint: expiry times must be set")
	}
	actions := r.actionIDs()
	body := make([]byte, 0, 128)
	body = appendClaims(body, actions, accessExpiresAt.UnixMilli(), AccessTokenType, r.UserID, r.NetworkIDs, r.DeviceTypeIDs)
	access := Secret(s.macs.signToken(body))
	body = appendClaims(body[:0], actions, refreshExpiresAt.UnixMilli(), RefreshTokenType, r.UserID, r.NetworkIDs, r.DeviceTypeIDs)
	refresh := Secret(s.macs.signToken(body))
	return TokenPair{
		AccessToken:      access,
		RefreshToken:     refresh,
		AccessExpiresAt:  time.UnixMilli(accessExpiresAt.UnixMilli()).UTC(),
		RefreshExpiresAt: time.UnixMilli(refreshExpiresAt.UnixMilli()).UTC(),
	}, nil
}

// Parse verifies an HS256 token's signature with the signer's key and decodes
// its claims. It does not check expiry or type: it reads back what a Secret
// holds, whatever its state. Errors wrap ErrInvalidToken.
func (s *Signer) Parse(token string) (Claims, error) {
	var rc readClaims
	if _, err := s.parser.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		return Claims{}, fmt.Errorf("devicehive: parse: %w", sanitizeJWTError(err))
	}
	c, err := rc.claims()
	if err != nil {
		return Claims{}, fmt.Errorf("devicehive: parse: %w", err)
	}
	return c, nil
}
