// Package dhtest is an in-memory DeviceHive auth service for tests, in the
// style of net/http/httptest. It mints and checks tokens as
// devicehive-java-server 4.1.0 does (docs/devicehive-api.md), traps included
// (an empty action list grants every client action, unknown names are
// dropped), so tests can prove that the client never falls into them.
package dhtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/utils/clock"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/testserver"
)

// Call kinds counted by Calls and named by LoseNextReply.
const (
	KindLogin   = "login"
	KindCreate  = "create"
	KindRefresh = "refresh"
)

// Options configure a Server; the zero value is a Docker-like deployment.
type Options struct {
	// Secret is the server's JWT secret; "devicehive" when empty.
	Secret string
	// BasePath is where the auth REST API lives; "/auth/rest" when empty.
	BasePath string
	// Clock decides every expiry; the real clock when nil.
	Clock clock.PassiveClock
}

// User is an account of the server.
type User struct {
	// ID is assigned from 1 up when zero.
	ID int64
	// Login and Password are what POST {base}/token accepts.
	Login    string
	Password string
	// Active false is a locked or disabled user: its tokens stop working.
	Active bool
	// Admin users log in with every action, network and device type.
	Admin bool
}

// Server is the test auth service.
type Server struct {
	hs       *httptest.Server
	mux      *http.ServeMux
	parser   *jwt.Parser
	key      []byte
	basePath string
	clock    clock.PassiveClock

	mu     sync.Mutex
	users  map[int64]User
	nextID int64
	testserver.Faults
}

// NewServer starts a server and closes it when the test ends. Its requests are
// logged to the test, which shows them when it fails.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewUnstartedServer(opts)
	s.hs.Config.Handler = testserver.LogRequests(t.Logf, "dhtest", s.hs.Config.Handler)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewUnstartedServer builds a server without starting it. It panics on a
// secret the real server could not use, as httptest panics on bad setup.
func NewUnstartedServer(opts Options) *Server {
	secret := opts.Secret
	if secret == "" {
		secret = "devicehive"
	}
	key, err := devicehive.DeriveKey(secret)
	if err != nil {
		panic(fmt.Sprintf("dhtest: %v", err))
	}
	base := strings.TrimRight(opts.BasePath, "/")
	if opts.BasePath == "" {
		base = "/auth/rest"
	}
	if base != "" && !strings.HasPrefix(base, "/") {
		base = "/" + base
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	s := &Server{
		key:      key,
		basePath: base,
		clock:    clk,
		users:    map[int64]User{},
		// jjwt takes the algorithm from the header: any HMAC-SHA2 verifies.
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}), jwt.WithoutClaimsValidation()),
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST "+base+"/token", s.handleLogin)
	s.mux.HandleFunc("POST "+base+"/token/create", s.handleCreate)
	s.mux.HandleFunc("POST "+base+"/token/refresh", s.handleRefresh)
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	return s
}

// Start starts the server.
func (s *Server) Start() { s.hs.Start() }

// Close shuts the server down, waiting for calls in flight.
func (s *Server) Close() { s.hs.Close() }

// URL is the base URL clients are configured with, BasePath included.
func (s *Server) URL() string { return s.hs.URL + s.basePath }

// AddUser adds (or with a known ID replaces) a user and returns it with its ID.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u.ID == 0 {
		s.nextID++
		if _, taken := s.users[s.nextID]; !taken {
			u.ID = s.nextID
		}
	}
	s.users[u.ID] = u
	return u
}

// SetUserActive locks (false) or unlocks (true) a user. It panics on an
// unknown id: that is a bug in the test.
func (s *Server) SetUserActive(id int64, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		panic(fmt.Sprintf("dhtest: SetUserActive: no user %d", id))
	}
	u.Active = active
	s.users[id] = u
}

func (s *Server) user(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	return u, ok
}

func (s *Server) userByLogin(login string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.Login == login {
			return u, true
		}
	}
	return User{}, false
}

// kindOf names the call a path is, or "" for any other path.
func (s *Server) kindOf(path string) string {
	switch path {
	case s.basePath + "/token":
		return KindLogin
	case s.basePath + "/token/create":
		return KindCreate
	case s.basePath + "/token/refresh":
		return KindRefresh
	}
	return ""
}
