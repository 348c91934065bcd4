package awx

import "github.com/tokenoperator/token-operator/internal/secret"

// redacted is what every rendering of a Secret shows instead of its value.
const redacted = secret.Redacted

// Secret holds a token value or password: every fmt verb, JSON and slog print
// "[redacted]"; only Reveal returns it.
type Secret = secret.Value
