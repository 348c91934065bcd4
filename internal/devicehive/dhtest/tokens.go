package dhtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// Max ages of the server's defaults (jwt.access-token-max-age,
// jwt.refresh-token-max-age).
const (
	AccessTokenMaxAge  = 30 * time.Minute
	RefreshTokenMaxAge = 182 * 24 * time.Hour
)

// claims is a token's payload. A nil slice is an absent claim, which the
// server reads differently from an empty one: no "a" grants nothing, "a": []
// grants every client action.
type claims struct {
	A  []int
	E  int64 // epoch milliseconds
	T  int   // 0 refresh, anything else access
	U  int64
	N  []string
	DT []string
}

// wirePayload serialises claims in the server's order: a, e, t, u, n, dt.
type wirePayload struct {
	A  *[]int    `json:"a,omitempty"`
	E  int64     `json:"e"`
	T  int       `json:"t"`
	U  int64     `json:"u"`
	N  *[]string `json:"n,omitempty"`
	DT *[]string `json:"dt,omitempty"`
}

// mintBody is the claim set the server signs.
type mintBody struct {
	devicehive.NoRegisteredClaims
	Payload wirePayload `json:"payload"`
}

// readBody is the claim set as read back, field by field.
type readBody struct {
	devicehive.NoRegisteredClaims
	Payload map[string]json.RawMessage `json:"payload"`
}

// mint signs claims as the server does: HS256, header {"alg":"HS256"}.
func (s *Server) mint(c claims) string {
	p := wirePayload{E: c.E, T: c.T, U: c.U}
	if c.A != nil {
		p.A = &c.A
	}
	if c.N != nil {
		p.N = &c.N
	}
	if c.DT != nil {
		p.DT = &c.DT
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, mintBody{Payload: p})
	delete(t.Header, "typ")
	signed, err := t.SignedString(s.key)
	if err != nil {
		panic(fmt.Sprintf("dhtest: sign: %v", err))
	}
	return signed
}

// expiry converts a time to the "e" claim.
func expiry(t time.Time) int64 { return t.UnixMilli() }

// Grant describes a token for MintFor.
type Grant struct {
	// UserID is "u"; the user must exist and be active for the token to work.
	UserID int64
	// ActionIDs is "a": nil leaves it out (no rights), empty gives "a": []
	// (every client action, the trap), 0 is "*".
	ActionIDs []int
	// NetworkIDs and DeviceTypeIDs are "n" and "dt"; nil leaves them out.
	NetworkIDs    []string
	DeviceTypeIDs []string
	// ExpiresAt is "e"; zero means now + 30 minutes on the server's clock.
	ExpiresAt time.Time
	// Refresh mints a refresh token (t: 0) instead of an access token.
	Refresh bool
}

// MintFor signs a token with the server's key, as an operator holding the
// secret (or the server's own tests) would: e.g. an admin's ManageToken
// bearer, Grant{UserID: admin.ID, ActionIDs: []int{15}}.
func (s *Server) MintFor(g Grant) string {
	exp := g.ExpiresAt
	if exp.IsZero() {
		exp = s.clock.Now().Add(AccessTokenMaxAge)
	}
	t := 1
	if g.Refresh {
		t = 0
	}
	return s.mint(claims{A: g.ActionIDs, E: expiry(exp), T: t, U: g.UserID, N: g.NetworkIDs, DT: g.DeviceTypeIDs})
}

// tokenError is why a token was refused. internal marks what the server
// fails on with a 500 rather than a 401 on /token/refresh: a claim of the
// wrong type (a Java ClassCastException) or no user id.
type tokenError struct {
	internal bool
	reason   string
}

func (e *tokenError) Error() string { return "dhtest: token refused: " + e.reason }

func badToken(reason string) error   { return &tokenError{reason: reason} }
func wrongClaim(reason string) error { return &tokenError{internal: true, reason: reason} }

func isInternal(err error) bool {
	var te *tokenError
	return errors.As(err, &te) && te.internal
}

func isJSONNull(raw json.RawMessage) bool { return raw == nil || bytes.Equal(raw, []byte("null")) }

// parse verifies the signature (jjwt takes the algorithm from the header,
// so any HMAC-SHA2 is accepted) and reads the payload with the server's
// types: e a Java Long, t an Integer.
func (s *Server) parse(token string) (claims, error) {
	var body readBody
	if _, err := s.parser.ParseWithClaims(token, &body, func(*jwt.Token) (any, error) { return s.key, nil }); err != nil {
		return claims{}, badToken("bad signature or format")
	}
	p := body.Payload
	if p == nil {
		return claims{}, badToken("no payload claim")
	}
	var c claims
	var err error
	if isJSONNull(p["u"]) {
		return claims{}, wrongClaim("not a user payload (no u)")
	}
	if c.U, err = integer(p["u"], "u"); err != nil {
		return claims{}, err
	}
	if isJSONNull(p["t"]) || isJSONNull(p["e"]) {
		return claims{}, badToken("token type and expiration must be present")
	}
	t, err := integer(p["t"], "t")
	if err != nil {
		return claims{}, err
	}
	if t < math.MinInt32 || t > math.MaxInt32 {
		return claims{}, wrongClaim("t is not an Integer")
	}
	c.T = int(t)
	if c.E, err = integer(p["e"], "e"); err != nil {
		return claims{}, err
	}
	// Jackson reads a small number as an Integer, which the server's cast to
	// Long refuses: "e" in seconds is a wrong type, not an early expiry.
	if c.E >= math.MinInt32 && c.E <= math.MaxInt32 {
		return claims{}, wrongClaim("e is not a Long (seconds instead of milliseconds?)")
	}
	if c.A, err = list[int](p["a"], "a"); err != nil {
		return claims{}, err
	}
	if c.N, err = list[string](p["n"], "n"); err != nil {
		return claims{}, err
	}
	if c.DT, err = list[string](p["dt"], "dt"); err != nil {
		return claims{}, err
	}
	return c, nil
}

// integer reads a JSON integer; a quoted or fractional number is refused.
func integer(raw json.RawMessage, name string) (int64, error) {
	var v int64
	if !isInteger(raw) || json.Unmarshal(raw, &v) != nil {
		return 0, wrongClaim(name + " is not an integer")
	}
	return v, nil
}

// list reads an optional array claim; nil when absent, empty when [].
func list[T int | string](raw json.RawMessage, name string) ([]T, error) {
	if isJSONNull(raw) {
		return nil, nil
	}
	v := []T{}
	if json.Unmarshal(raw, &v) != nil {
		return nil, wrongClaim(name + " has elements of the wrong type")
	}
	return v, nil
}
