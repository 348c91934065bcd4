package devicehive

import (
	"fmt"
	"strconv"
	"time"
)

const redacted = "[redacted]"

// Secret is a token value or password. Every fmt verb and JSON encoding print
// "[redacted]" instead of the value, so a Secret can sit in structs that get
// logged or wrapped into errors; only Reveal returns the value.
type Secret string

// Reveal returns the value. Call it only where the value leaves the process
// on purpose: an HTTP request body or header, or the target Kubernetes Secret.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not print the value either.
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb (quoted for %q), so no verb
// (%x, %d, %+v...) can reach the underlying string.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(redacted)))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// MarshalJSON encodes "[redacted]": a Secret never reaches JSON logs or status.
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(redacted)), nil
}

// TokenPair is an access + refresh token pair and their expiries as the
// tokens themselves state them ("e", to the millisecond).
type TokenPair struct {
	AccessToken      Secret
	RefreshToken     Secret
	AccessExpiresAt  time.Time
	RefreshExpiresAt time.Time
}
