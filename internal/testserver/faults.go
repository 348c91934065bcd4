// Package testserver holds what the in-memory test servers of the remote APIs
// (awxtest, dhtest) share: call counters, the faults tests arm (fail, delay, lose
// the reply), and starting on a fixed address.
package testserver

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Faults counts a server's calls by kind and holds the faults armed for them. A
// server embeds it, so its methods are the server's; they are safe for
// concurrent use. The zero value is ready.
type Faults struct {
	mu       sync.Mutex
	calls    map[string]int
	total    int
	failNext int
	delay    time.Duration
	lose     map[string]int
}

// Calls counts the requests of a kind, faulted ones included.
func (f *Faults) Calls(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[kind]
}

// TotalCalls counts every request, unknown paths included.
func (f *Faults) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// ResetCalls sets every counter to zero; armed faults stay armed.
func (f *Faults) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.total = nil, 0
}

// FailNext makes the next n requests fail with a server error without doing
// anything.
func (f *Faults) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failNext = n
}

// SetDelay makes every request wait d of real time before it is handled (a slow
// network, so no injected clock plays a part); zero turns it off. A client that
// gives up meanwhile leaves the request undone.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// LoseNextReply makes the next request of kind be carried out in full (a create
// does create the token) and then closes the connection without a reply, so the
// client sees a dropped connection: the case that orphans tokens.
func (f *Faults) LoseNextReply(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lose == nil {
		f.lose = map[string]int{}
	}
	f.lose[kind]++
}

// Armed are the faults a request met on arrival.
type Armed struct {
	// Fail: answer a server error and do nothing.
	Fail bool
	// Lose: carry the request out, then drop the connection (see DropReply).
	Lose bool
}

// Arrive counts a request of kind ("" for an unknown path), takes the faults
// armed for it (a failed request loses no reply) and waits out the delay. ok is
// false when the client left during the delay: the request is then not carried out.
func (f *Faults) Arrive(r *http.Request, kind string) (armed Armed, ok bool) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.total++
	if kind != "" {
		f.calls[kind]++
	}
	delay := f.delay
	if armed.Fail = f.failNext > 0; armed.Fail {
		f.failNext--
	}
	if armed.Lose = !armed.Fail && kind != "" && f.lose[kind] > 0; armed.Lose {
		f.lose[kind]--
	}
	f.mu.Unlock()
	if delay <= 0 {
		return armed, true
	}
	// Reading the body first lets net/http notice a client that hangs up, which
	// cancels r.Context().
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return armed, true
	case <-r.Context().Done():
		return armed, false
	}
}

// DropReply closes the connection of w without a response; where it cannot take
// the connection over, it aborts the handler, which net/http also ends with no reply.
func DropReply(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// StartOn starts hs on addr, e.g. "127.0.0.1:18052", instead of a random port:
// for a playground whose manifests name fixed URLs.
func StartOn(hs *httptest.Server, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	_ = hs.Listener.Close() // the random port httptest reserved
	hs.Listener = l
	hs.Start()
	return nil
}
