package dhtest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// Calls returns how many calls of a kind (KindLogin, KindCreate,
// KindRefresh) arrived since the start or the last ResetCalls, faulted ones
// included.
func (s *Server) Calls(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

// TotalCalls returns how many HTTP requests arrived, on any path.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ResetCalls zeroes the call counters; faults stay armed.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total = 0
	s.calls = map[string]int{}
}

// FailNext makes the next n calls answer 503 without doing anything.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// SetDelay makes every call wait d of real time before it is handled (zero
// turns it off): a slow network, not a server decision, so the injected clock
// plays no part. A client that gives up ends the wait.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// LoseNextReply makes the next call of kind take effect (a token is minted)
// and then close its connection with no response, as a network drop after
// the server acted would.
func (s *Server) LoseNextReply(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose[kind]++
}

// serve counts the call, applies the armed faults, then routes it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	kind := s.kindOf(r.URL.Path)
	s.mu.Lock()
	s.total++
	if kind != "" {
		s.calls[kind]++
	}
	delay := s.delay
	fail := s.failNext > 0
	if fail {
		s.failNext--
	}
	lose := !fail && kind != "" && s.lose[kind] > 0
	if lose {
		s.lose[kind]--
	}
	s.mu.Unlock()

	if delay > 0 {
		// Reading the body first lets the server notice a client that hangs
		// up, which cancels r.Context().
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fail {
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if !lose {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(httptest.NewRecorder(), r)
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}
