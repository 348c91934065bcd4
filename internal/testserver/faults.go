// Package testserver holds what the in-memory test servers of the remote APIs
// (awxtest, dhtest) share: call counters, the faults tests arm (fail, throttle,
// delay, lose the reply), and starting on a fixed address.
package testserver

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	throttle struct {
		n          int
		retryAfter time.Duration
	}
	delay     time.Duration
	delayNext map[string]time.Duration
	lose      map[string]int
	chaos     struct {
		p          float64
		lateCommit time.Duration
	}
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
// network or a busy server, so no injected clock plays a part); zero turns it
// off. As on the real servers (AWX's Django, DeviceHive's Spring), a request
// whose client gave up meanwhile is still carried out: a create commits.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// DelayNext makes the next request of kind wait d of real time before it is
// handled, and then be carried out whatever the client did: a create AWX
// commits after the operator gave up on it.
func (f *Faults) DelayNext(kind string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.delayNext == nil {
		f.delayNext = map[string]time.Duration{}
	}
	f.delayNext[kind] = d
}

// SetChaos arms, on each request of a known kind and with probability p, one
// fault picked at random: a server error, a 429 asking to retry in a second, a
// reply lost after the request was carried out, or a delay of lateCommit after
// which the request is carried out whatever the client did. Zero turns it off.
func (f *Faults) SetChaos(p float64, lateCommit time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.chaos.p, f.chaos.lateCommit = p, lateCommit
}

// ThrottleNext makes the next n requests answer 429 Too Many Requests with a
// Retry-After of retryAfter (whole seconds), without doing anything.
func (f *Faults) ThrottleNext(n int, retryAfter time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle.n, f.throttle.retryAfter = n, retryAfter
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
	// Throttle: answer 429 with this Retry-After and do nothing (see Throttled).
	Throttle time.Duration
	// Lose: carry the request out, then drop the connection (see DropReply).
	Lose bool
}

// Arrive counts a request of kind ("" for an unknown path), takes the faults
// armed for it (a failed or throttled request loses no reply) and waits out the
// delay, whether or not the client is still there.
func (f *Faults) Arrive(r *http.Request, kind string) Armed {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.total++
	if kind != "" {
		f.calls[kind]++
	}
	delay := f.delay
	if d, ok := f.delayNext[kind]; ok && kind != "" {
		delay = max(delay, d)
		delete(f.delayNext, kind)
	}
	var armed Armed
	switch {
	case f.throttle.n > 0:
		f.throttle.n--
		armed.Throttle = max(f.throttle.retryAfter, time.Second)
	case f.failNext > 0:
		f.failNext--
		armed.Fail = true
	case kind != "" && f.lose[kind] > 0:
		f.lose[kind]--
		armed.Lose = true
	case kind != "" && f.chaos.p > 0 && rand.Float64() < f.chaos.p:
		switch rand.IntN(4) {
		case 0:
			armed.Fail = true
		case 1:
			armed.Throttle = time.Second
		case 2:
			armed.Lose = true
		default:
			delay = max(delay, f.chaos.lateCommit)
		}
	}
	f.mu.Unlock()
	if delay > 0 {
		// The body is read first, as a server does before its handler runs, so
		// that the request can be carried out once the client has gone.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		time.Sleep(delay)
	}
	return armed
}

// Throttled writes a 429 reply with a Retry-After header of whole seconds and body.
func Throttled(w http.ResponseWriter, retryAfter time.Duration, contentType string, body []byte) {
	w.Header().Set("Retry-After", strconv.Itoa(int(retryAfter.Round(time.Second)/time.Second)))
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(body)
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
