package dhtest

import (
	"net/http"
	"net/http/httptest"

	"github.com/tokenoperator/token-operator/internal/testserver"
)

// serve counts the call, applies the armed faults (testserver.Faults, which Server
// embeds), then routes it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	armed := s.Arrive(r, s.kindOf(r.URL.Path))
	if armed.Throttle > 0 {
		testserver.Throttled(w, armed.Throttle, "application/json", []byte(`{"error":429,"message":"Too Many Requests"}`))
		return
	}
	if armed.Fail {
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if !armed.Lose {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(httptest.NewRecorder(), r)
	testserver.DropReply(w)
}
