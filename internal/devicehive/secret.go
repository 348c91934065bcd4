package devicehive

import (
	"time"

	"github.com/tokenoperator/token-operator/internal/secret"
)

// redacted is what every rendering of a Secret shows instead of its value.
const redacted = secret.Redacted

// Secret is a token value or password: every fmt verb, JSON and slog print
// "[redacted]"; only Reveal returns it, so a Secret can sit in structs that get
// logged or wrapped into errors.
type Secret = secret.Value

// TokenPair is an access + refresh token pair and their expiries as the
// tokens themselves state them ("e", to the millisecond).
type TokenPair struct {
	AccessToken      Secret
	RefreshToken     Secret
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
}
