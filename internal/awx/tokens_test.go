package awx_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestClient_CreateToken_AuthenticatesAsCaller(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				scopes []string
				want   []string
			}{
				{name: "read", scopes: []string{"read"}, want: []string{"read"}},
				{name: "read write", scopes: []string{"read", "write"}, want: []string{"read", "write"}},
				{name: "write read", scopes: []string{"write", "read"}, want: []string{"write", "read"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					e := newEnv(t, awxtest.Options{Flavor: f.server})
					c := newClient(t, e.srv.URL(), f.api, login(e.alice))
					before := time.Now().Add(-time.Second)

					tok := mustCreate(t, c, awx.CreateRequest{Description: "ci [m-1]", Scopes: tc.scopes})

					if len(tok.Value.Reveal()) != 30 || strings.Trim(tok.Value.Reveal(), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
						t.Errorf("value is not 30 characters of [A-Za-z0-9]")
					}
					user, scopes, ok := e.srv.Authenticate(tok.Value.Reveal())
					if !ok || user != "alice" || !slices.Equal(scopes, tc.want) {
						t.Errorf("Authenticate = %q %v %v, want alice %v true", user, scopes, ok, tc.want)
					}
					if tok.UserID != e.alice.ID || tok.Description != "ci [m-1]" || !slices.Equal(tok.Scopes, tc.want) {
						t.Errorf("token = %+v", tok.Token)
					}
					if tok.Created.Before(before) || tok.Expires.Unix()-tok.Created.Unix() != 31536000000 {
						t.Errorf("created %v, expires %v: want now and 31536000000s later", tok.Created, tok.Expires)
					}
					// The new value works as credentials for the same user.
					me, err := newClient(t, e.srv.URL(), f.api, bearer(tok.Value)).Me(ctx(t))
					if err != nil || me.Username != "alice" || me.ID != e.alice.ID {
						t.Errorf("Me with the new token = %+v, %v", me, err)
					}
				})
			}
		})
	}
}

func TestClient_TokenValueMaskedAfterCreate(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			tok := mustCreate(t, c, awx.CreateRequest{Description: "mask", Scopes: write})
			url := e.srv.URL() + f.prefix + fmt.Sprintf("tokens/%d/", tok.ID)

			for _, req := range []struct{ method, body string }{
				{http.MethodGet, ""},
				{http.MethodPatch, `{"description": "mask 2"}`},
				{http.MethodPut, `{"description": "mask 3", "scope": "read write"}`},
			} {
				status, body := raw(t, req.method, url, e.alice, req.body)
				if status != http.StatusOK || body["token"] != f.mask {
					t.Errorf("%s: %d token=%v, want 200 %q", req.method, status, body["token"], f.mask)
				}
			}
			status, list := raw(t, http.MethodGet, e.srv.URL()+f.prefix+"tokens/", e.alice, "")
			results, _ := list["results"].([]any)
			if status != http.StatusOK || len(results) != 1 || results[0].(map[string]any)["token"] != f.mask {
				t.Errorf("list: %d %v", status, list)
			}
			// The client's Token has no value field at all; GetToken works.
			got, err := c.GetToken(ctx(t), tok.ID)
			if err != nil || got.ID != tok.ID || got.Description != "mask 3" || !slices.Equal(got.Scopes, []string{"read", "write"}) {
				t.Errorf("GetToken = %+v, %v", got, err)
			}
		})
	}
}

func TestClient_UpdateToken_InPlace(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			tok := mustCreate(t, c, awx.CreateRequest{Description: "before", Scopes: []string{"write"}})

			desc := "after"
			got, err := c.UpdateToken(ctx(t), tok.ID, awx.Update{Description: &desc})
			if err != nil || got.ID != tok.ID || got.Description != "after" || !slices.Equal(got.Scopes, []string{"write"}) {
				t.Fatalf("description update = %+v, %v", got, err)
			}
			got, err = c.UpdateToken(ctx(t), tok.ID, awx.Update{Scopes: []string{"read"}})
			if err != nil || got.ID != tok.ID || got.Description != "after" || !slices.Equal(got.Scopes, []string{"read"}) {
				t.Fatalf("scope update = %+v, %v", got, err)
			}
			// Same token, same value, now read-only.
			if _, scopes, ok := e.srv.Authenticate(tok.Value.Reveal()); !ok || !slices.Equal(scopes, []string{"read"}) {
				t.Errorf("after update the value authenticates with %v %v", scopes, ok)
			}
			if n := len(e.srv.LiveTokens("alice")); n != 1 {
				t.Errorf("alice has %d tokens, want 1", n)
			}
			_, err = c.UpdateToken(ctx(t), tok.ID, awx.Update{Scopes: []string{"read", "rainbow"}})
			if !awx.IsBadRequest(err) {
				t.Errorf("invalid scope update: %v, want 400", err)
			}
		})
	}
}

func TestClient_DeleteToken(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			tok := mustCreate(t, c, awx.CreateRequest{Description: "doomed", Scopes: write})

			if err := c.DeleteToken(ctx(t), tok.ID); err != nil {
				t.Fatalf("DeleteToken: %v", err)
			}
			if _, _, ok := e.srv.Authenticate(tok.Value.Reveal()); ok {
				t.Error("deleted token still authenticates")
			}
			_, err := c.GetToken(ctx(t), tok.ID)
			if !awx.IsNotFound(err) {
				t.Errorf("GetToken after delete: %v, want 404", err)
			}
			want := fmt.Sprintf("awx: GET %stokens/%d/: 404: No OAuth2AccessToken matches the given query.", f.prefix, tok.ID)
			if err == nil || err.Error() != want {
				t.Errorf("error text %q, want %q", err, want)
			}
			if err := c.DeleteToken(ctx(t), tok.ID); !awx.IsNotFound(err) {
				t.Errorf("second DeleteToken: %v, want 404", err)
			}
		})
	}
}

func TestClient_OtherUsersTokensAreHidden(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			tok := mustCreate(t, newClient(t, e.srv.URL(), f.api, login(e.alice)), awx.CreateRequest{Description: "alice's", Scopes: write})
			bob := newClient(t, e.srv.URL(), f.api, login(e.bob))
			if _, err := bob.GetToken(ctx(t), tok.ID); !awx.IsNotFound(err) {
				t.Errorf("bob GET: %v, want 404", err)
			}
			if err := bob.DeleteToken(ctx(t), tok.ID); !awx.IsNotFound(err) {
				t.Errorf("bob DELETE: %v, want 404", err)
			}
			root := newClient(t, e.srv.URL(), f.api, login(e.root))
			if got, err := root.GetToken(ctx(t), tok.ID); err != nil || got.UserID != e.alice.ID {
				t.Errorf("superuser GET = %+v, %v", got, err)
			}
			if _, _, ok := e.srv.Authenticate(tok.Value.Reveal()); !ok {
				t.Error("alice's token was touched")
			}
		})
	}
}

func TestClient_AuthErrors(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			wrong := newClient(t, e.srv.URL(), f.api, awx.Credentials{Username: "alice", Password: "nope"})
			_, err := wrong.Me(ctx(t))
			if !awx.IsUnauthorized(err) || !strings.Contains(err.Error(), "Invalid username/password. To establish a login session, visit /api/login/.") {
				t.Errorf("wrong password: %v", err)
			}
			if strings.Contains(fmt.Sprint(err), "nope") {
				t.Error("the password shows in the error")
			}
			_, err = newClient(t, e.srv.URL(), f.api, awx.Credentials{}).CreateToken(ctx(t), awx.CreateRequest{Scopes: write})
			if !awx.IsUnauthorized(err) || !strings.Contains(err.Error(), "Authentication credentials were not provided.") {
				t.Errorf("no credentials: %v", err)
			}
			_, err = newClient(t, e.srv.URL(), f.api, bearer("not-a-token")).Me(ctx(t))
			if !awx.IsUnauthorized(err) {
				t.Errorf("unknown token: %v", err)
			}

			_, err = newClient(t, e.srv.URL(), f.api, login(e.ldapGuy)).CreateToken(ctx(t), awx.CreateRequest{Description: "x", Scopes: write})
			if !awx.IsExternalProviderRefusal(err) || !awx.IsForbidden(err) {
				t.Errorf("external provider: %v", err)
			}
			if !strings.HasSuffix(err.Error(), "external authentication provider (ldap)") {
				t.Errorf("external provider text: %q", err)
			}
			if n := len(e.srv.LiveTokens("ldap-guy")); n != 0 {
				t.Errorf("ldap-guy got %d tokens", n)
			}

			alice := newClient(t, e.srv.URL(), f.api, login(e.alice))
			readOnly := mustCreate(t, alice, awx.CreateRequest{Description: "ro", Scopes: []string{"read"}})
			ro := newClient(t, e.srv.URL(), f.api, bearer(readOnly.Value))
			if _, err := ro.Me(ctx(t)); err != nil {
				t.Errorf("read token GET: %v", err)
			}
			_, err = ro.CreateToken(ctx(t), awx.CreateRequest{Description: "from ro", Scopes: write})
			if !awx.IsForbidden(err) || awx.IsExternalProviderRefusal(err) ||
				!strings.HasSuffix(err.Error(), ": 403: You do not have permission to perform this action.") {
				t.Errorf("read token create: %v", err)
			}
			if err := ro.DeleteToken(ctx(t), readOnly.ID); !awx.IsForbidden(err) {
				t.Errorf("read token delete: %v", err)
			}
			rw := mustCreate(t, alice, awx.CreateRequest{Description: "rw", Scopes: []string{"read", "write"}})
			if _, err := newClient(t, e.srv.URL(), f.api, bearer(rw.Value)).CreateToken(ctx(t), awx.CreateRequest{Description: "from rw", Scopes: write}); err != nil {
				t.Errorf("write token create: %v", err)
			}
		})
	}
}

func TestClient_Me(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.root))
			for range 3 {
				me, err := c.Me(ctx(t))
				if err != nil || me != (awx.User{ID: e.root.ID, Username: "root", IsSuperuser: true}) {
					t.Fatalf("Me = %+v, %v", me, err)
				}
			}
			if n := e.srv.Calls(awxtest.KindMe); n != 1 {
				t.Errorf("Me asked %d times, want once per client", n)
			}
		})
	}
}
