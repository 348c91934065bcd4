package devicehive

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types as the "t" claim carries them.
const (
	RefreshTokenType = 0
	AccessTokenType  = 1
)

// ErrInvalidToken is wrapped by every error about reading a token. The texts
// name what is wrong, never the token.
var ErrInvalidToken = errors.New("invalid token")

// Claims is what a DeviceHive JWT grants, decoded from its "payload" claim.
type Claims struct {
	UserID        int64
	ActionIDs     []int
	NetworkIDs    []string
	DeviceTypeIDs []string
	ExpiresAt     time.Time
	// Type is AccessTokenType (1) or RefreshTokenType (0).
	Type int
}

// NoRegisteredClaims satisfies jwt.Claims for a token with none of exp, iat,
// nbf, iss, sub, aud: DeviceHive keeps its expiry inside "payload". Claim sets of
// DeviceHive tokens embed it.
type NoRegisteredClaims struct{}

func (NoRegisteredClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (NoRegisteredClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (NoRegisteredClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (NoRegisteredClaims) GetIssuer() (string, error)                   { return "", nil }
func (NoRegisteredClaims) GetSubject() (string, error)                  { return "", nil }
func (NoRegisteredClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// readClaims is the token body we read: pointers tell a missing claim from a
// zero one (t: 0 is a refresh token, a missing t is a broken token).
type readClaims struct {
	NoRegisteredClaims
	Payload *struct {
		A  []int    `json:"a"`
		E  *int64   `json:"e"`
		T  *int     `json:"t"`
		U  *int64   `json:"u"`
		N  []string `json:"n"`
		DT []string `json:"dt"`
	} `json:"payload"`
}

// claims checks that the claims the server insists on are present.
func (rc *readClaims) claims() (Claims, error) {
	p := rc.Payload
	switch {
	case p == nil:
		return Claims{}, fmt.Errorf("%w: no payload claim", ErrInvalidToken)
	case p.U == nil:
		return Claims{}, fmt.Errorf("%w: no user id (u)", ErrInvalidToken)
	case p.E == nil:
		return Claims{}, fmt.Errorf("%w: no expiry (e)", ErrInvalidToken)
	case p.T == nil:
		return Claims{}, fmt.Errorf("%w: no token type (t)", ErrInvalidToken)
	}
	return Claims{
		UserID:        *p.U,
		ActionIDs:     p.A,
		NetworkIDs:    p.N,
		DeviceTypeIDs: p.DT,
		ExpiresAt:     time.UnixMilli(*p.E).UTC(),
		Type:          *p.T,
	}, nil
}

// DecodeUnverified reads the claims of a token without checking its signature:
// for those who hold no key (the client, the operator in API mode) and need only
// the expiry and rights the server wrote. Errors never quote the token.
func DecodeUnverified(token string) (Claims, error) {
	var rc readClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &rc); err != nil {
		return Claims{}, sanitizeJWTError(err)
	}
	return rc.claims()
}

// sanitizeJWTError keeps only the kind of a jwt error: the library's texts
// can quote parts of the decoded token.
func sanitizeJWTError(err error) error {
	reason := "cannot be read"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = "signature is invalid or not HS256"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		reason = "signing algorithm is missing or unknown"
	}
	return fmt.Errorf("%w: %s", ErrInvalidToken, reason)
}
