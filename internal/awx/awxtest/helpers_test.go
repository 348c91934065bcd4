package awxtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// result is a decoded reply.
type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r result) results() []map[string]any {
	list, _ := r.body["results"].([]any)
	out := make([]map[string]any, len(list))
	for i, item := range list {
		out[i] = item.(map[string]any)
	}
	return out
}

func (r result) detail() string { s, _ := r.body["detail"].(string); return s }

// auth sets credentials on a request.
type auth func(*http.Request)

func basic(u awxtest.User) auth {
	return func(r *http.Request) { r.SetBasicAuth(u.Username, u.Password) }
}

func bearer(value string) auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+value) }
}

func header(v string) auth {
	return func(r *http.Request) { r.Header.Set("Authorization", v) }
}

func do(t *testing.T, method, url string, a auth, body string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if a != nil {
		a(req)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.body); err != nil {
			t.Fatalf("%s %s: not a JSON object: %s", method, url, b)
		}
	}
	return r
}

// world is a server with a normal user, another one, a superuser and an auditor.
type world struct {
	srv                       *awxtest.Server
	alice, bob, root, auditor awxtest.User
	api                       string // base URL + API prefix
}

func newWorld(t *testing.T, opts awxtest.Options) world {
	t.Helper()
	srv := awxtest.NewServer(t, opts)
	w := world{
		srv:     srv,
		alice:   srv.AddUser(awxtest.User{Username: "alice", Password: "a-pw"}),
		bob:     srv.AddUser(awxtest.User{Username: "bob", Password: "b-pw"}),
		root:    srv.AddUser(awxtest.User{Username: "root", Password: "r-pw", Superuser: true}),
		auditor: srv.AddUser(awxtest.User{Username: "auditor", Password: "au-pw", SystemAuditor: true}),
	}
	w.api = srv.URL() + "/api/v2/"
	if opts.Flavor == awxtest.FlavorGateway {
		w.api = srv.URL() + "/api/gateway/v1/"
	}
	return w
}

// create makes a token through tokens/ and returns the reply.
func (w world) create(t *testing.T, u awxtest.User, body string) result {
	t.Helper()
	r := do(t, http.MethodPost, w.api+"tokens/", basic(u), body)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r
}

var flavors = []awxtest.Flavor{awxtest.FlavorController, awxtest.FlavorGateway}
