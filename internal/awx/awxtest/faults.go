package awxtest

import (
	"net/http"
	"time"
)

// Call kinds, for Calls and LoseNextReply.
const (
	KindMe     = "me"
	KindCreate = "create"
	KindGet    = "get"
	KindUpdate = "update"
	KindDelete = "delete"
	KindList   = "list"
)

// Calls counts the requests routed to a kind ("me", "create", "get",
// "update", "delete", "list"), failed or not.
func (s *Server) Calls(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

// TotalCalls counts every request, unknown paths included.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ResetCalls sets every counter to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.total = 0
}

// FailNext makes the next n requests answer 500 {"detail": "A server error
// has occurred."} without doing anything.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// SetDelay delays every request by d before it is handled. A client that
// gives up meanwhile leaves the request undone.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// LoseNextReply makes the next request of kind be carried out in full (a
// create does create the token) and then closes the connection without a
// reply, so the client sees a dropped connection.
func (s *Server) LoseNextReply(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose[kind]++
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if kind != "" {
		s.calls[kind]++
	}
}

// wait sleeps for the delay and reports whether the client is still there.
func (s *Server) wait(r *http.Request) bool {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext <= 0 {
		return false
	}
	s.failNext--
	return true
}

func (s *Server) takeLoss(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == "" || s.lose[kind] <= 0 {
		return false
	}
	s.lose[kind]--
	return true
}
