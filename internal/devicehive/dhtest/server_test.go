package dhtest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	srv    *dhtest.Server
	clock  *testingclock.FakeClock
	admin  dhtest.User
	user   dhtest.User
	bearer string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testingclock.NewFakeClock(epoch)
	srv := dhtest.NewServer(t, dhtest.Options{Clock: clk})
	f := &fixture{
		srv:   srv,
		clock: clk,
		admin: srv.AddUser(dhtest.User{Login: "dhadmin", Password: "pw", Active: true, Admin: true}),
		user:  srv.AddUser(dhtest.User{Login: "sensor", Password: "pw", Active: true}),
	}
	f.bearer = srv.MintFor(dhtest.Grant{UserID: f.admin.ID, ActionIDs: []int{devicehive.ManageTokenActionID}})
	return f
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) post(t *testing.T, path, authorization, body string) answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.srv.URL()+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(raw)}
}

// create posts to /token/create with the admin's ManageToken bearer and
// returns the access and refresh tokens.
func (f *fixture) create(t *testing.T, body string) (string, string) {
	t.Helper()
	a := f.post(t, "/token/create", "Bearer "+f.bearer, body)
	if a.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", body, a.status, a.body)
	}
	var pair struct{ AccessToken, RefreshToken string }
	if err := json.Unmarshal([]byte(a.body), &pair); err != nil {
		t.Fatalf("create answer: %v", err)
	}
	return pair.AccessToken, pair.RefreshToken
}

func payload(t *testing.T, token string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return string(raw)
}

func errorBody(status int, message string) string {
	b, _ := json.Marshal(map[string]any{"error": status, "message": message})
	return string(b) + "\n"
}

// TestServer_widensEmptyActionLists proves the trap our client refuses to
// fall into: an empty list, or one whose every name is unknown, grants every
// client action, ManageToken and ManagePlugin included.
func TestServer_widensEmptyActionLists(t *testing.T) {
	f := newFixture(t)
	for name, actions := range map[string]string{"empty": `[]`, "all unknown": `["Fly", "GetDevices"]`} {
		t.Run(name, func(t *testing.T) {
			access, _ := f.create(t, `{"userId":2,"actions":`+actions+`,"networkIds":["1"],"deviceTypeIds":["1"]}`)
			if !strings.Contains(payload(t, access), `"a":[]`) {
				t.Fatalf("payload = %s", payload(t, access))
			}
			for _, granted := range []string{"GetDevice", "ManageToken", "ManagePlugin", "CreateDeviceCommand", "UpdateCurrentUser"} {
				if err := f.srv.Check(access, granted, "1", "1"); err != nil {
					t.Errorf("%s refused: %v", granted, err)
				}
			}
			for _, admin := range []string{"ManageUser", "ManageNetwork", "ManageConfiguration", "ManageDeviceType"} {
				if err := f.srv.Check(access, admin, "1", "1"); err == nil {
					t.Errorf("admin action %s granted", admin)
				}
			}
		})
	}
}

func TestServer_create_actions(t *testing.T) {
	f := newFixture(t)
	t.Run("omitted grants nothing", func(t *testing.T) {
		access, _ := f.create(t, `{"userId":2,"networkIds":["*"],"deviceTypeIds":["*"]}`)
		for _, name := range devicehive.ActionNames() {
			if err := f.srv.Check(access, name, "1", "1"); err == nil {
				t.Errorf("%s granted", name)
			}
		}
	})
	t.Run("names any case, ids, unknown dropped", func(t *testing.T) {
		access, _ := f.create(t, `{"userId":2,"actions":["getdevice","GETNETWORK","Fly",5,99],"networkIds":["1"],"deviceTypeIds":["*"]}`)
		if !strings.HasPrefix(payload(t, access), `{"payload":{"a":[2,3,5],`) {
			t.Fatalf("payload = %s", payload(t, access))
		}
	})
	t.Run("star grants admin actions", func(t *testing.T) {
		access, _ := f.create(t, `{"userId":2,"actions":["*"],"networkIds":["*"],"deviceTypeIds":["*"]}`)
		if err := f.srv.Check(access, "ManageUser", "1", "1"); err != nil {
			t.Fatalf("ManageUser refused: %v", err)
		}
	})
	t.Run("neither string nor integer", func(t *testing.T) {
		a := f.post(t, "/token/create", "Bearer "+f.bearer, `{"userId":2,"actions":["GetDevice",true]}`)
		if a.status != 400 || a.body != errorBody(400, "Actions list should contain only Strings or Integers") {
			t.Fatalf("got %d %s", a.status, a.body)
		}
	})
}

func TestServer_create_expirations(t *testing.T) {
	f := newFixture(t)
	ms := func(t time.Time) string { b, _ := json.Marshal(t.UnixMilli()); return string(b) }
	given := time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC)
	past := epoch.Add(-time.Hour)
	tests := []struct {
		name, fields            string
		wantAccess, wantRefresh time.Time
	}{
		{"both given", `"expiration":"2026-12-31T23:59:59.000","refreshExpiration":"2027-06-30T00:00:00.000Z"`, given, time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)},
		{"refresh falls back to expiration", `"expiration":"2026-12-31T23:59:59.000"`, given, given},
		{"past expiration used unchecked", `"expiration":` + ms(past), past, past},
		{"both omitted", ``, epoch.Add(30 * time.Minute), epoch.Add(182 * 24 * time.Hour)},
		{"only refresh given", `"refreshExpiration":"2026-12-31T23:59:59.000"`, epoch.Add(30 * time.Minute), given},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"userId":2,"actions":["GetDevice"],"networkIds":["1"],"deviceTypeIds":["1"]`
			if tt.fields != "" {
				body += "," + tt.fields
			}
			access, refresh := f.create(t, body+"}")
			if !strings.Contains(payload(t, access), `"e":`+ms(tt.wantAccess)+`,"t":1,`) ||
				!strings.Contains(payload(t, refresh), `"e":`+ms(tt.wantRefresh)+`,"t":0,`) {
				t.Fatalf("access %s\nrefresh %s", payload(t, access), payload(t, refresh))
			}
		})
	}
	dead, _ := f.create(t, `{"userId":2,"actions":["GetDevice"],"networkIds":["1"],"deviceTypeIds":["1"],"expiration":`+ms(past)+`}`)
	if err := f.srv.Check(dead, "GetDevice", "1", "1"); err == nil {
		t.Fatal("token with a past expiration accepted")
	}
}

func TestServer_create_errors(t *testing.T) {
	f := newFixture(t)
	locked := f.srv.AddUser(dhtest.User{Login: "locked", Password: "pw"})
	noManageToken := f.srv.MintFor(dhtest.Grant{UserID: f.admin.ID, ActionIDs: []int{3}})
	refreshBearer := f.srv.MintFor(dhtest.Grant{UserID: f.admin.ID, ActionIDs: []int{15}, Refresh: true})
	valid := `{"userId":2,"actions":["GetDevice"],"networkIds":["1"],"deviceTypeIds":["1"]}`
	tests := []struct {
		name, auth, body string
		status           int
		wantBody         string
	}{
		{"no authorization", "", valid, 401, errorBody(401, "Unauthorized")},
		{"lowercase bearer", "bearer " + f.bearer, valid, 401, errorBody(401, "Unauthorized")},
		{"malformed json", "Bearer " + f.bearer, `{"userId":`, 400, errorBody(400, "Invalid request parameters")},
		{"bad date", "Bearer " + f.bearer, `{"userId":2,"actions":["GetDevice"],"expiration":"31/12/2026"}`, 400, errorBody(400, "Invalid request parameters")},
		{"unknown user", "Bearer " + f.bearer, strings.Replace(valid, `"userId":2`, `"userId":42`, 1), 404, errorBody(404, "User with id = 42 not found")},
		{"locked user", "Bearer " + f.bearer, strings.Replace(valid, `"userId":2`, `"userId":`+strconv.FormatInt(locked.ID, 10), 1), 403, errorBody(403, "User is locked or disabled")},
		{"caller lacks ManageToken", "Bearer " + noManageToken, valid, 403, errorBody(403, "Access is denied")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.post(t, "/token/create", tt.auth, tt.body)
			if a.status != tt.status || a.body != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", a.status, a.body, tt.status, tt.wantBody)
			}
		})
	}
	for name, bearer := range map[string]string{
		"refresh token as bearer": refreshBearer,
		"garbage bearer":          "not.a.jwt",
		"expired bearer":          f.srv.MintFor(dhtest.Grant{UserID: f.admin.ID, ActionIDs: []int{15}, ExpiresAt: epoch.Add(-time.Millisecond)}),
	} {
		t.Run(name, func(t *testing.T) {
			a := f.post(t, "/token/create", "Bearer "+bearer, valid)
			if a.status != 401 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "<html>") {
				t.Fatalf("got %d %s %q", a.status, a.header.Get("Content-Type"), a.body)
			}
		})
	}
}

func TestServer_refresh(t *testing.T) {
	f := newFixture(t)
	access, refresh := f.create(t, `{"userId":2,"actions":["GetDevice"],"networkIds":["1"],"deviceTypeIds":["1"],"refreshExpiration":"2026-03-02T12:00:00.000"}`)
	body := func(token string) string { return `{"refreshToken":"` + token + `"}` }

	a := f.post(t, "/token/refresh", "", body(refresh))
	var got struct{ AccessToken string }
	_ = json.Unmarshal([]byte(a.body), &got)
	if a.status != 201 || f.srv.Check(got.AccessToken, "GetDevice", "1", "1") != nil || f.srv.Check(got.AccessToken, "GetNetwork", "1", "1") == nil {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	if a := f.post(t, "/token/refresh", "", body(access)); a.status != 401 || a.body != errorBody(401, "Invalid token type") {
		t.Fatalf("access token: %d %s", a.status, a.body)
	}
	other, _ := devicehive.NewSigner("secret")
	foreign, _ := other.Mint(devicehive.Rights{UserID: 2, Actions: []string{"GetDevice"}, NetworkIDs: []string{"1"}, DeviceTypeIDs: []string{"1"}}, epoch.Add(time.Hour), epoch.Add(time.Hour))
	if a := f.post(t, "/token/refresh", "", body(foreign.RefreshToken.Reveal())); a.status != 401 || a.body != "" {
		t.Fatalf("bad signature: %d %q", a.status, a.body)
	}
	f.clock.Step(24*time.Hour + time.Millisecond)
	if a := f.post(t, "/token/refresh", "", body(refresh)); a.status != 401 || a.body != errorBody(401, "Token has expired") {
		t.Fatalf("expired: %d %s", a.status, a.body)
	}
	f.clock.SetTime(epoch)
	f.srv.SetUserActive(f.user.ID, false)
	if a := f.post(t, "/token/refresh", "", body(refresh)); a.status != 401 || a.body != "" {
		t.Fatalf("locked user: %d %q", a.status, a.body)
	}
}

func TestServer_login(t *testing.T) {
	f := newFixture(t)
	a := f.post(t, "/token", "", `{"login":"sensor","password":"pw"}`)
	var pair struct{ AccessToken, RefreshToken string }
	_ = json.Unmarshal([]byte(a.body), &pair)
	if a.status != 201 || pair.RefreshToken == "" {
		t.Fatalf("login: %d %s", a.status, a.body)
	}
	// A client user's login token: every client action, but no network yet.
	if !strings.HasPrefix(payload(t, pair.AccessToken), `{"payload":{"a":[2,3,4,5,6,7,8,9,10,11,15,16,17],"e":`+
		`1772368200000,"t":1,"u":2,"n":[],"dt":[]}}`) {
		t.Fatalf("payload = %s", payload(t, pair.AccessToken))
	}
	if a := f.post(t, "/token", "", `{"login":"sensor","password":"nope"}`); a.status != 401 {
		t.Fatalf("bad password: %d %s", a.status, a.body)
	}
	if a := f.post(t, "/token", "", `{"login":"nobody","password":"pw"}`); a.status != 401 {
		t.Fatalf("unknown login: %d %s", a.status, a.body)
	}
}

func TestServer_Check_tokenShapes(t *testing.T) {
	f := newFixture(t)
	future := epoch.Add(time.Hour)
	tests := []struct {
		name  string
		grant dhtest.Grant
		ok    bool
	}{
		{"all granted", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, NetworkIDs: []string{"1"}, DeviceTypeIDs: []string{"1"}}, true},
		{"ids compare as numbers", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, NetworkIDs: []string{"01"}, DeviceTypeIDs: []string{"*"}}, true},
		{"no n claim", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, DeviceTypeIDs: []string{"*"}}, false},
		{"no a claim", dhtest.Grant{UserID: 2, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}, false},
		{"unknown action id kills the token", dhtest.Grant{UserID: 2, ActionIDs: []int{3, 99}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}, false},
		{"non-numeric network kills the token", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, NetworkIDs: []string{"1", "x"}, DeviceTypeIDs: []string{"*"}}, false},
		{"unknown user", dhtest.Grant{UserID: 9, ActionIDs: []int{3}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}, false},
		{"refresh token", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}, Refresh: true}, false},
		{"expiry in seconds", dhtest.Grant{UserID: 2, ActionIDs: []int{3}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}, ExpiresAt: time.UnixMilli(future.Unix())}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.srv.Check(f.srv.MintFor(tt.grant), "GetDevice", "1", "1")
			if (err == nil) != tt.ok {
				t.Fatalf("Check = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestServer_optionsAndCounters(t *testing.T) {
	srv := dhtest.NewServer(t, dhtest.Options{BasePath: "/dh/rest/", Secret: "secret"})
	if !strings.HasSuffix(srv.URL(), "/dh/rest") {
		t.Fatalf("URL = %s", srv.URL())
	}
	resp, err := http.Post(srv.URL()+"/token", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	_ = resp.Body.Close()
	resp, err = http.Post(srv.URL()+"/elsewhere", "application/json", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	_ = resp.Body.Close()
	if srv.Calls(dhtest.KindLogin) != 1 || srv.TotalCalls() != 2 {
		t.Fatalf("calls: login %d, total %d", srv.Calls(dhtest.KindLogin), srv.TotalCalls())
	}
	srv.ResetCalls()
	if srv.TotalCalls() != 0 {
		t.Fatal("ResetCalls kept counts")
	}
}
