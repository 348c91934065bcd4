package awxtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	clocktesting "k8s.io/utils/clock/testing"
)

const (
	notProvided = "Authentication credentials were not provided. To establish a login session, visit /api/login/."
	badLogin    = "Invalid username/password. To establish a login session, visit /api/login/."
)

func TestServer_Authentication(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			w := newWorld(t, awxtest.Options{Flavor: flavor})
			for _, tc := range []struct {
				name   string
				auth   auth
				status int
				detail string
			}{
				{"none", nil, 401, notProvided},
				{"wrong password", basic(awxtest.User{Username: "alice", Password: "x"}), 401, badLogin},
				{"unknown user", basic(awxtest.User{Username: "mallory", Password: "x"}), 401, badLogin},
				{"bad base64", header("Basic !!!"), 401, "Invalid basic header. Credentials not correctly base64 encoded. To establish a login session, visit /api/login/."},
				{"unknown token", bearer("nope"), 401, notProvided},
				{"other scheme", header("Token abc"), 401, notProvided},
				{"password", basic(w.alice), 200, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := do(t, http.MethodGet, w.api+"me/", tc.auth, "")
					if r.status != tc.status || r.detail() != tc.detail {
						t.Fatalf("got %d %s", r.status, r.raw)
					}
					if r.status == 401 && r.header.Get("WWW-Authenticate") != "Bearer realm=api authorization_url=/api/o/authorize/" {
						t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
					}
				})
			}
		})
	}
}

func TestServer_Me(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			w := newWorld(t, awxtest.Options{Flavor: flavor})
			r := do(t, http.MethodGet, w.api+"me/", basic(w.root), "")
			if r.body["count"] != 1.0 || r.body["next"] != nil || r.body["previous"] != nil || len(r.results()) != 1 {
				t.Fatalf("me: %s", r.raw)
			}
			u := r.results()[0]
			if u["id"] != float64(w.root.ID) || u["username"] != "root" || u["is_superuser"] != true {
				t.Errorf("me: %v", u)
			}
		})
	}
}

func TestServer_TokenObject(t *testing.T) {
	for _, tc := range []struct {
		flavor awxtest.Flavor
		prefix string
		mask   string
	}{
		{awxtest.FlavorController, "/api/v2/", "************"},
		{awxtest.FlavorGateway, "/api/gateway/v1/", "$encrypted$"},
	} {
		t.Run(string(tc.flavor), func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(time.Date(2024, 7, 10, 12, 0, 0, 123456789, time.UTC))
			w := newWorld(t, awxtest.Options{Flavor: tc.flavor, Clock: clk})
			r := w.create(t, w.alice, `{"description": "  padded  ", "scope": "read write"}`)
			tok := r.body
			id := int(tok["id"].(float64))
			url := fmt.Sprintf("%stokens/%d/", tc.prefix, id)
			var keys []string
			for k := range tok {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			wantKeys := []string{"application", "created", "description", "expires", "id", "modified", "refresh_token", "related", "scope", "summary_fields", "token", "type", "url", "user"}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("fields %v", keys)
			}
			want := map[string]any{
				"type": "o_auth2_access_token", "url": url, "user": float64(w.alice.ID), "application": nil,
				"refresh_token": nil, "scope": "read write", "description": "padded",
				"created": "2024-07-10T12:00:00.123456Z", "modified": "2024-07-10T12:00:00.123456Z",
				"expires": "3023-11-11T12:00:00.123456Z",
			}
			for k, v := range want {
				if tok[k] != v {
					t.Errorf("%s = %v, want %v", k, tok[k], v)
				}
			}
			if r.header.Get("Location") != url {
				t.Errorf("Location %q", r.header.Get("Location"))
			}
			related := tok["related"].(map[string]any)
			if related["user"] != fmt.Sprintf("%susers/%d/", tc.prefix, w.alice.ID) || related["activity_stream"] == nil {
				t.Errorf("related %v", related)
			}
			user := tok["summary_fields"].(map[string]any)["user"].(map[string]any)
			if user["id"] != float64(w.alice.ID) || user["username"] != "alice" {
				t.Errorf("summary_fields.user %v", user)
			}
			value := tok["token"].(string)
			if live := w.srv.LiveTokens("alice"); len(live) != 1 || live[0].Value != value || len(value) != 30 {
				t.Errorf("value %q vs %+v", value, live)
			}

			clk.SetTime(time.Date(2024, 7, 11, 8, 30, 0, 0, time.UTC))
			patched := do(t, http.MethodPatch, w.srv.URL()+url, basic(w.alice), `{"description": "d", "user": 99, "expires": "2030-01-01T00:00:00Z", "token": "x"}`)
			if patched.status != 200 || patched.body["token"] != tc.mask || patched.body["user"] != float64(w.alice.ID) ||
				patched.body["modified"] != "2024-07-11T08:30:00Z" || patched.body["expires"] != want["expires"] {
				t.Errorf("patch: %s", patched.raw)
			}
			if _, _, ok := w.srv.Authenticate(value); !ok {
				t.Error("patch changed the value")
			}
		})
	}
}

func TestServer_ControllerUserPersonalTokens(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	path := func(id int64) string { return fmt.Sprintf("%susers/%d/personal_tokens/", w.api, id) }
	for _, tc := range []struct {
		name   string
		caller awxtest.User
		id     int64
		status int
		detail string
	}{
		{"own", w.alice, w.alice.ID, 201, ""},
		{"another user", w.alice, w.bob.ID, 403, "You do not have permission to perform this action."},
		{"nobody", w.alice, 999, 404, "No User matches the given query."},
		{"auditor for another", w.auditor, w.alice.ID, 403, "You do not have permission to perform this action."},
		{"superuser for another", w.root, w.alice.ID, 201, ""},
		{"superuser for nobody", w.root, 999, 201, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, path(tc.id), basic(tc.caller), `{"description": "`+tc.name+`"}`)
			if r.status != tc.status || r.detail() != tc.detail {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if r.status == 201 && (r.body["user"] != float64(tc.caller.ID) || r.body["scope"] != "write") {
				t.Errorf("owner %v scope %v, want the caller and write", r.body["user"], r.body["scope"])
			}
		})
	}
	// GET lists the caller's tokens whatever the id.
	r := do(t, http.MethodGet, path(w.alice.ID), basic(w.root), "")
	if r.status != 200 || r.body["count"] != 2.0 {
		t.Fatalf("root's list: %s", r.raw)
	}
	for _, tok := range r.results() {
		if tok["user"] != float64(w.root.ID) {
			t.Errorf("root's list shows %v", tok)
		}
	}
	if r := do(t, http.MethodGet, path(w.alice.ID), basic(w.bob), ""); r.status != 403 {
		t.Errorf("bob reads alice's list: %d", r.status)
	}
	// POST tokens/ makes a personal token too; an application is refused here.
	if r := do(t, http.MethodPost, w.api+"tokens/", basic(w.bob), `{"application": 5}`); r.status != 400 ||
		fmt.Sprint(r.body["application"]) != `[Invalid pk "5" - object does not exist.]` {
		t.Errorf("application: %d %s", r.status, r.raw)
	}
}

func TestServer_GatewayUserPersonalTokens(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	w.create(t, w.alice, `{"description": "a"}`)
	w.create(t, w.root, `{"description": "r"}`)
	path := func(id int64) string { return fmt.Sprintf("%susers/%d/personal_tokens/", w.api, id) }
	if r := do(t, http.MethodPost, path(w.alice.ID), basic(w.alice), `{}`); r.status != 405 || r.detail() != `Method "POST" not allowed.` {
		t.Errorf("POST: %d %s", r.status, r.raw)
	}
	r := do(t, http.MethodGet, path(w.alice.ID), basic(w.root), "")
	if r.status != 200 || len(r.results()) != 1 || r.results()[0]["user"] != float64(w.alice.ID) {
		t.Errorf("root reads alice's: %s", r.raw)
	}
	if r := do(t, http.MethodGet, path(w.alice.ID), basic(w.bob), ""); r.status != 403 {
		t.Errorf("bob reads alice's: %d", r.status)
	}
	if r := do(t, http.MethodGet, path(999), basic(w.root), ""); r.status != 404 || r.detail() != "No User matches the given query." {
		t.Errorf("nobody: %d %s", r.status, r.raw)
	}
}

func TestServer_ReadScopeAndVisibility(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			w := newWorld(t, awxtest.Options{Flavor: flavor})
			ro := w.create(t, w.alice, `{"scope": "read"}`).body
			url := fmt.Sprintf("%stokens/%v/", w.api, ro["id"])
			value := ro["token"].(string)
			for _, m := range []string{http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
				target := url
				if m == http.MethodPost {
					target = w.api + "tokens/"
				}
				if r := do(t, m, target, bearer(value), `{}`); r.status != 403 || r.detail() != "You do not have permission to perform this action." {
					t.Errorf("%s with a read token: %d %s", m, r.status, r.raw)
				}
			}
			if r := do(t, http.MethodGet, url, bearer(value), ""); r.status != 200 {
				t.Errorf("GET with a read token: %d", r.status)
			}
			if r := do(t, http.MethodGet, url, basic(w.bob), ""); r.status != 404 || r.detail() != "No OAuth2AccessToken matches the given query." {
				t.Errorf("bob GET: %d %s", r.status, r.raw)
			}
			if r := do(t, http.MethodPatch, url, basic(w.bob), `{"description": "x"}`); r.status != 404 {
				t.Errorf("bob PATCH: %d", r.status)
			}
			if r := do(t, http.MethodGet, url, basic(w.auditor), ""); r.status != 200 {
				t.Errorf("auditor GET: %d", r.status)
			}
			if r := do(t, http.MethodDelete, url, basic(w.auditor), ""); r.status != 403 {
				t.Errorf("auditor DELETE: %d", r.status)
			}
			if r := do(t, http.MethodGet, w.api+"tokens/", basic(w.auditor), ""); r.body["count"] != 1.0 {
				t.Errorf("auditor list: %s", r.raw)
			}
			if r := do(t, http.MethodGet, w.api+"tokens/", basic(w.bob), ""); r.body["count"] != 0.0 {
				t.Errorf("bob list: %s", r.raw)
			}
			if r := do(t, http.MethodDelete, url, basic(w.root), ""); r.status != 204 || r.raw != "" {
				t.Errorf("root DELETE: %d %q", r.status, r.raw)
			}
			if r := do(t, http.MethodDelete, url, basic(w.root), ""); r.status != 404 || r.detail() != "No OAuth2AccessToken matches the given query." {
				t.Errorf("second DELETE: %d %s", r.status, r.raw)
			}
		})
	}
}

func TestServer_Routing(t *testing.T) {
	ctl := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	gw := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	for _, tc := range []struct {
		url    string
		status int
	}{
		{ctl.srv.URL() + "/api/v2/me/", 200},
		{ctl.srv.URL() + "/api/v2/nothing/", 404},
		{ctl.srv.URL() + "/api/v2/tokens", 404},
		{ctl.srv.URL() + "/api/v2/tokens/abc/", 404},
		{ctl.srv.URL() + "/api/gateway/v1/me/", 404},
		{ctl.srv.URL() + "/api/controller/v2/me/", 404},
		{gw.srv.URL() + "/api/gateway/v1/me/", 200},
		{gw.srv.URL() + "/api/controller/v2/me/", 200},
		{gw.srv.URL() + "/api/v2/me/", 404},
	} {
		r := do(t, http.MethodGet, tc.url, basic(ctl.alice), "")
		if r.status != tc.status || (r.status == 404 && r.detail() != "Not found.") {
			t.Errorf("%s: %d %s", tc.url, r.status, r.raw)
		}
	}
	if r := do(t, http.MethodDelete, ctl.api+"tokens/", basic(ctl.alice), ""); r.status != 405 || r.detail() != `Method "DELETE" not allowed.` {
		t.Errorf("DELETE tokens/: %d %s", r.status, r.raw)
	}
}

func TestServer_Bodies(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	for _, tc := range []struct {
		name, body string
		status     int
		check      func(result) bool
	}{
		{"empty", "", 201, func(r result) bool { return r.body["scope"] == "write" && r.body["description"] == "" }},
		{"not JSON", "{", 400, func(r result) bool { return strings.HasPrefix(r.detail(), "JSON parse error - ") }},
		{"list", `["read"]`, 400, func(r result) bool {
			return fmt.Sprint(r.body["non_field_errors"]) == "[Invalid data. Expected a dictionary, but got list.]"
		}},
		{"number description", `{"description": 5}`, 201, func(r result) bool { return r.body["description"] == "5" }},
		{"null description", `{"description": null}`, 400, func(r result) bool {
			return fmt.Sprint(r.body["description"]) == "[This field may not be null.]"
		}},
		{"unknown fields ignored", `{"bogus": 1, "user": 3}`, 201, func(r result) bool { return r.body["user"] == float64(w.alice.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, http.MethodPost, w.api+"tokens/", basic(w.alice), tc.body)
			if r.status != tc.status || !tc.check(r) {
				t.Errorf("got %d %s", r.status, r.raw)
			}
		})
	}
}

func TestServer_CallsAndFaults(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	do(t, http.MethodGet, w.api+"me/", basic(w.alice), "")
	id := w.create(t, w.alice, `{}`).body["id"]
	tok := fmt.Sprintf("%stokens/%v/", w.api, id)
	do(t, http.MethodGet, tok, basic(w.alice), "")
	do(t, http.MethodPatch, tok, basic(w.alice), `{}`)
	do(t, http.MethodGet, w.api+"tokens/", nil, "") // 401 still counts
	do(t, http.MethodGet, w.api+"nowhere/", basic(w.alice), "")
	w.srv.FailNext(1)
	if r := do(t, http.MethodDelete, tok, basic(w.alice), ""); r.status != 500 || r.detail() != "A server error has occurred." {
		t.Errorf("FailNext: %d %s", r.status, r.raw)
	}
	do(t, http.MethodDelete, tok, basic(w.alice), "")
	for kind, want := range map[string]int{"me": 1, "create": 1, "get": 1, "update": 1, "list": 1, "delete": 2} {
		if got := w.srv.Calls(kind); got != want {
			t.Errorf("Calls(%q) = %d, want %d", kind, got, want)
		}
	}
	if got := w.srv.TotalCalls(); got != 8 {
		t.Errorf("TotalCalls = %d, want 8", got)
	}
	w.srv.ResetCalls()
	if w.srv.TotalCalls() != 0 || w.srv.Calls("me") != 0 {
		t.Error("ResetCalls left counts")
	}
}

func TestServer_LoseNextReply(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	w.srv.LoseNextReply(awxtest.KindCreate)
	req, _ := http.NewRequest(http.MethodPost, w.api+"tokens/", strings.NewReader(`{"description": "lost"}`))
	req.SetBasicAuth(w.alice.Username, w.alice.Password)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("got a reply %d", resp.StatusCode)
	}
	if live := w.srv.LiveTokens("alice"); len(live) != 1 || live[0].Description != "lost" {
		t.Errorf("live %+v", live)
	}
	w.create(t, w.alice, `{}`) // only the next one is lost
}

// AWX runs on Django: a request whose client hung up still finishes, and a
// create still commits.
func TestServer_ADelayedCreateCommitsAfterTheClientLeft(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	w.srv.SetDelay(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, w.api+"tokens/", strings.NewReader(`{"description":"late"}`))
	req.SetBasicAuth(w.alice.Username, w.alice.Password)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("got a reply before the delay")
	}
	if n := len(w.srv.LiveTokens("alice")); n != 0 {
		t.Fatalf("committed before the delay: %d tokens", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(w.srv.LiveTokens("alice")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.srv.SetDelay(0)
	if live := w.srv.LiveTokens("alice"); len(live) != 1 || live[0].Description != "late" {
		t.Errorf("the abandoned create should commit, live: %+v", live)
	}
}

func TestServer_ThrottleAnswers429WithRetryAfter(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	w.srv.ThrottleNext(1, 3*time.Second)
	req, _ := http.NewRequest(http.MethodGet, w.api+"me/", nil)
	req.SetBasicAuth(w.alice.Username, w.alice.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" ||
		!strings.Contains(string(body), `"detail":"Request was throttled. Expected available in 3 seconds."`) {
		t.Errorf("got %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	req, _ = http.NewRequest(http.MethodGet, w.api+"me/", nil)
	req.SetBasicAuth(w.alice.Username, w.alice.Password)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the next request: %v %v", err, resp)
	}
	_ = resp.Body.Close()
}

func TestServer_UnstartedLifecycle(t *testing.T) {
	s := awxtest.NewUnstartedServer(awxtest.Options{})
	u := s.AddUser(awxtest.User{Username: "play", Password: "pw"})
	s.Start()
	defer s.Close()
	if r := do(t, http.MethodGet, s.URL()+"/api/v2/me/", basic(u), ""); r.status != 200 {
		t.Errorf("me: %d", r.status)
	}
}

func TestServer_Connections(t *testing.T) {
	w := newWorld(t, awxtest.Options{})
	for range 3 {
		do(t, http.MethodGet, w.api+"me/", basic(w.alice), "")
	}
	if got := w.srv.Connections(); got != 1 {
		t.Errorf("3 calls one after the other on a kept-alive connection: Connections = %d, want 1", got)
	}
	noKeepAlive := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 2 {
		resp, err := noKeepAlive.Get(w.api + "ping/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	if got := w.srv.Connections(); got != 3 {
		t.Errorf("then 2 calls without keep-alive: Connections = %d, want 3", got)
	}
}
