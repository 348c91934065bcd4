package testserver

import (
	"net/http"
	"time"
)

// LogRequests wraps next so that every request is logged through logf with its
// method, path, status and duration: in tests, t.Logf, which `go test` shows only
// when the test fails. Bodies, headers and query strings, which may hold
// credentials or token values, are never logged.
func LogRequests(logf func(format string, args ...any), name string, next http.Handler) http.Handler {
	return LogRequestsIf(logf, name, next, nil)
}

// LogRequestsIf is LogRequests for the requests keep accepts once answered (all
// when keep is nil): a long-running server skips its clients' routine calls.
func LogRequestsIf(logf func(format string, args ...any), name string, next http.Handler, keep func(r *http.Request, status int) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		if keep != nil && !keep(r, rec.status) {
			return
		}
		logf("%s: %s %s -> %d (%s)", name, r.Method, r.URL.Path, rec.status, time.Since(start).Round(time.Millisecond))
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection: the lost-reply
// fault hijacks it.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
