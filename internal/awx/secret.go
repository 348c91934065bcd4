package awx

import (
	"fmt"
	"log/slog"
	"strconv"
)

// redacted is what every rendering of a Secret shows instead of its value.
const redacted = "[redacted]"

// Secret holds a token value. Every fmt verb, JSON and slog print
// "[redacted]"; only Reveal returns the value, so a Secret that ends up in a
// log line or an error by accident shows nothing.
type Secret string

// Reveal returns the value. Call it only where the value is written to its
// destination (an Authorization header, the target Kubernetes Secret).
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", so %#v does not print the value either.
func (Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb (%q quotes it); it exists because
// fmt would print the raw string for verbs such as %x or %d otherwise.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = f.Write([]byte(strconv.Quote(redacted)))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

// MarshalJSON returns "[redacted]" as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(redacted)), nil }

// LogValue makes log/slog print "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
