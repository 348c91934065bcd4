// Package awxtest is an in-memory AWX and AAP platform gateway for tests, in
// the style of net/http/httptest. It serves personal access tokens as
// docs/awx-api.md describes them: basic and Bearer authentication, scope
// validation with each flavour's texts, masked values, lists with filters and
// pages, and knobs to fail, delay and drop replies.
package awxtest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/clock"

	"github.com/tokenoperator/token-operator/internal/testserver"
)

// Flavor is the kind of server to imitate.
type Flavor string

const (
	// FlavorController is AWX 24.6.1: the controller API at /api/v2/.
	FlavorController Flavor = "Controller"
	// FlavorGateway is the AAP 2.5+ platform gateway: /api/gateway/v1/, and
	// the controller API behind it at /api/controller/v2/.
	FlavorGateway Flavor = "Gateway"
)

// defaultLifetimeSeconds is AWX's ACCESS_TOKEN_EXPIRE_SECONDS default
// (~1000 years), more than a time.Duration holds.
const defaultLifetimeSeconds = 31536000000

// Options configure a Server.
type Options struct {
	// Flavor is Controller (the default) or Gateway.
	Flavor Flavor
	// TokenLifetime sets expires = created + TokenLifetime. Zero means AWX's
	// default of 31536000000s, which does not fit in a time.Duration.
	TokenLifetime time.Duration
	// Clock stamps created, modified, expires and last_used and decides
	// expiry; the real clock when nil.
	Clock clock.PassiveClock
}

// User is an AWX user. AddUser assigns the ID.
type User struct {
	ID            int64
	Username      string
	Password      string
	Superuser     bool
	SystemAuditor bool
	// ExternalProvider is "", "ldap", "social" or "enterprise"; such users may
	// log in but not own tokens.
	ExternalProvider string
}

// Token is a stored token, value included, for inspection by tests.
type Token struct {
	ID          int64
	UserID      int64
	Description string
	Scopes      []string
	Value       string
	Created     time.Time
	Expires     time.Time
	// LastUsed is the last request the token authenticated; zero if none.
	LastUsed time.Time
}

// token is the stored row.
type token struct {
	id          int64
	userID      int64
	description string
	scope       string
	value       string
	api         apiDesc // the API that minted it; other APIs do not see it
	created     time.Time
	modified    time.Time
	expires     time.Time
	lastUsed    time.Time
}

// Server is an in-memory AWX. All methods are safe for concurrent use.
type Server struct {
	flavor   Flavor
	lifetime time.Duration
	clock    clock.PassiveClock
	apis     []apiDesc
	hs       *httptest.Server
	// conns counts the connections clients opened.
	conns atomic.Int64

	mu        sync.Mutex
	users     []User // users[i].ID == i+1
	tokens    map[int64]*token
	byValue   map[string]*token
	issued    []string // every value ever issued, revoked ones included
	lastToken int64
	testserver.Faults
}

// NewServer starts a Server and closes it when the test ends. Its requests are
// logged to the test, which shows them when it fails.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewUnstartedServer(opts)
	s.hs.Config.Handler = testserver.LogRequests(t.Logf, "awxtest", s.hs.Config.Handler)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewUnstartedServer returns a Server that Start starts; for a long-running
// playground without a testing.TB.
func NewUnstartedServer(opts Options) *Server {
	s := &Server{
		flavor:   opts.Flavor,
		lifetime: opts.TokenLifetime,
		clock:    opts.Clock,
		tokens:   map[int64]*token{},
		byValue:  map[string]*token{},
	}
	if s.flavor == "" {
		s.flavor = FlavorController
	}
	if s.clock == nil {
		s.clock = clock.RealClock{}
	}
	switch s.flavor {
	case FlavorController:
		s.apis = []apiDesc{{prefix: "/api/v2/"}}
	case FlavorGateway:
		s.apis = []apiDesc{{prefix: "/api/gateway/v1/", gateway: true}, {prefix: "/api/controller/v2/"}}
	default:
		panic(fmt.Sprintf("awxtest: unknown flavor %q", s.flavor))
	}
	s.hs = httptest.NewUnstartedServer(s)
	s.hs.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	return s
}

// Connections is how many connections clients have opened: each one a TCP
// handshake, and at a real AWX behind TLS a TLS handshake too.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Start starts serving (plain HTTP on a local port).
func (s *Server) Start() { s.hs.Start() }

// Close stops serving; it waits for requests in flight.
func (s *Server) Close() { s.hs.Close() }

// URL is the base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.hs.URL }

// AddUser adds a user with the next free ID (from 1) and returns it. It
// panics on an empty or duplicate username or an unknown provider.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch u.ExternalProvider {
	case "", "ldap", "social", "enterprise":
	default:
		panic(fmt.Sprintf("awxtest: unknown external provider %q", u.ExternalProvider))
	}
	if u.Username == "" || s.userByName(u.Username) != nil {
		panic(fmt.Sprintf("awxtest: empty or duplicate username %q", u.Username))
	}
	u.ID = int64(len(s.users) + 1)
	s.users = append(s.users, u)
	return u
}

// IssuedValues returns every token value the server ever issued, revoked and
// expired ones included, so a test can search logs and events for any of them.
func (s *Server) IssuedValues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// LiveTokens returns the user's unexpired tokens on every API, by ID.
func (s *Server) LiveTokens(username string) []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByName(username)
	if u == nil {
		return nil
	}
	now := s.now()
	var out []Token
	for _, t := range s.tokens {
		if t.userID == u.ID && now.Before(t.expires) {
			out = append(out, t.export())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Authenticate reports whether value is a live, unexpired token, whose it is
// and its scopes. It does not count as a use.
func (s *Server) Authenticate(value string) (username string, scopes []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.byValue[value]
	if t == nil || !s.now().Before(t.expires) {
		return "", nil, false
	}
	return s.userByID(t.userID).Username, strings.Fields(t.scope), true
}

func (t *token) export() Token {
	return Token{
		ID: t.id, UserID: t.userID, Description: t.description, Scopes: strings.Fields(t.scope),
		Value: t.value, Created: t.created, Expires: t.expires, LastUsed: t.lastUsed,
	}
}

// now is the clock's time at the microsecond precision AWX stores.
func (s *Server) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// expiry follows ACCESS_TOKEN_EXPIRE_SECONDS.
func (s *Server) expiry(created time.Time) time.Time {
	if s.lifetime == 0 {
		return time.Unix(created.Unix()+defaultLifetimeSeconds, int64(created.Nanosecond())).UTC()
	}
	return created.Add(s.lifetime)
}

func (s *Server) userByName(name string) *User {
	for i := range s.users {
		if s.users[i].Username == name {
			return &s.users[i]
		}
	}
	return nil
}

func (s *Server) userByID(id int64) *User {
	if id < 1 || id > int64(len(s.users)) {
		return nil
	}
	return &s.users[id-1]
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// ServeHTTP answers one request: count it, wait out the delay, throttle or fail
// it if asked, carry it out, then reply or drop the connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, found := s.route(r.URL.Path)
	kind := ""
	if found {
		kind = rt.kind(r.Method)
	}
	armed := s.Arrive(r, kind)
	if armed.Throttle > 0 {
		// Django REST framework's throttling reply.
		secs := int(armed.Throttle / time.Second)
		testserver.Throttled(w, armed.Throttle, "application/json",
			[]byte(fmt.Sprintf(`{"detail":"Request was throttled. Expected available in %d seconds."}`, secs)))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if armed.Fail {
		detail(http.StatusInternalServerError, textServerError).write(w)
		return
	}
	drop := armed.Lose
	var rep reply
	switch {
	case err != nil:
		rep = detail(http.StatusBadRequest, "Could not read the request body.")
	case !found:
		rep = notFound()
	default:
		rep = s.handle(r, rt, body)
	}
	if drop {
		testserver.DropReply(w)
		return
	}
	rep.write(w)
}
