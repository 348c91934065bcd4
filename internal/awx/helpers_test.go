package awx_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// flavour is one way to run a test: which server, and which API the client
// is told to use.
type flavour struct {
	name   string
	server awxtest.Flavor
	api    awx.API
	// prefix is where the client's token calls land.
	prefix string
	mask   string
}

var flavours = []flavour{
	{name: "controller", server: awxtest.FlavorController, api: awx.APIController, prefix: "/api/v2/", mask: "************"},
	{name: "gateway", server: awxtest.FlavorGateway, api: awx.APIGateway, prefix: "/api/gateway/v1/", mask: "$encrypted$"},
}

// write is the scope most tests ask for: AWX's default, which the client never leaves implicit.
var write = []string{"write"}

// env is a server with a few users.
type env struct {
	srv                                *awxtest.Server
	alice, bob, root, auditor, ldapGuy awxtest.User
}

func newEnv(t *testing.T, opts awxtest.Options) *env {
	t.Helper()
	srv := awxtest.NewServer(t, opts)
	return &env{
		srv:     srv,
		alice:   srv.AddUser(awxtest.User{Username: "alice", Password: "alice-pw"}),
		bob:     srv.AddUser(awxtest.User{Username: "bob", Password: "bob-pw"}),
		root:    srv.AddUser(awxtest.User{Username: "root", Password: "root-pw", Superuser: true}),
		auditor: srv.AddUser(awxtest.User{Username: "auditor", Password: "auditor-pw", SystemAuditor: true}),
		ldapGuy: srv.AddUser(awxtest.User{Username: "ldap-guy", Password: "ldap-pw", ExternalProvider: "ldap"}),
	}
}

func login(u awxtest.User) awx.Credentials {
	return awx.Credentials{Username: u.Username, Password: awx.Secret(u.Password)}
}

func bearer(value awx.Secret) awx.Credentials { return awx.Credentials{Token: value} }

func newClient(t *testing.T, url string, api awx.API, creds awx.Credentials) *awx.Client {
	t.Helper()
	c, err := awx.New(awx.Config{URL: url, API: api, Timeout: 5 * time.Second}, creds)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// raw sends a request the client would not send (a null scope, say) and
// decodes the JSON reply.
func raw(t *testing.T, method, url string, u awxtest.User, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(u.Username, u.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: reply is not a JSON object: %v", method, url, err)
		}
	}
	return resp.StatusCode, out
}

func mustCreate(t *testing.T, c *awx.Client, req awx.CreateRequest) awx.CreatedToken {
	t.Helper()
	tok, err := c.CreateToken(ctx(t), req)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok
}
