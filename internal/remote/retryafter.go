package remote

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter bounds how long a Retry-After can hold a request back: a hostile
// or broken server cannot park a token for days.
const MaxRetryAfter = 5 * time.Minute

// RetryAfter reads a Retry-After header, in seconds or as an HTTP date, bounded
// to [1 s, MaxRetryAfter]; zero when absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(now)
	} else {
		return 0
	}
	return min(max(d, time.Second), MaxRetryAfter)
}
