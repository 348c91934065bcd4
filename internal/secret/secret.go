// Package secret holds the one type the remote clients keep token values,
// passwords and keys in, so that none can reach a log line, an error or JSON by
// accident.
package secret

import (
	"fmt"
	"log/slog"
	"strconv"
)

// Redacted is what every rendering of a Value shows instead of it.
const Redacted = "[redacted]"

// Value holds a token value, password or key. Every fmt verb, JSON and slog print
// "[redacted]"; only Reveal returns it.
type Value string

// Reveal returns the value. Call it only where the value leaves the process on
// purpose: an HTTP request, or the target Kubernetes Secret.
func (v Value) Reveal() string { return string(v) }

// String returns "[redacted]".
func (Value) String() string { return Redacted }

// GoString returns "[redacted]", so %#v does not print the value either.
func (Value) GoString() string { return Redacted }

// Format writes "[redacted]" for every verb (%q quotes it): fmt would print the
// raw string for verbs such as %x or %d otherwise.
func (Value) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(Redacted)))
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// MarshalJSON returns "[redacted]" as a JSON string.
func (Value) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(Redacted)), nil }

// LogValue makes log/slog print "[redacted]".
func (Value) LogValue() slog.Value { return slog.StringValue(Redacted) }
