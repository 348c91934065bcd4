package devicehive_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

func TestClient_Login(t *testing.T) {
	e := newEnv(t)
	pair, err := e.client.Login(t.Context(), e.admin.Login, devicehive.Secret(e.admin.Password))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if !pair.AccessExpiresAt.Equal(epoch.Add(30*time.Minute)) || !pair.RefreshExpiresAt.Equal(epoch.Add(182*24*time.Hour)) {
		t.Fatalf("expiries = %v, %v", pair.AccessExpiresAt, pair.RefreshExpiresAt)
	}
	if err := e.srv.Check(pair.AccessToken.Reveal(), "ManageUser", "9", "9"); err != nil {
		t.Fatalf("admin token refused: %v", err)
	}

	_, err = e.client.Login(t.Context(), e.admin.Login, "wrong")
	if !devicehive.IsUnauthorized(err) {
		t.Fatalf("bad password: %v", err)
	}
	e.srv.SetUserActive(e.user.ID, false)
	_, err = e.client.Login(t.Context(), e.user.Login, devicehive.Secret(e.user.Password))
	if !devicehive.IsUserLocked(err) {
		t.Fatalf("locked user: %v", err)
	}
}

func TestClient_Create(t *testing.T) {
	e := newEnv(t)
	login, err := e.client.Login(t.Context(), e.admin.Login, devicehive.Secret(e.admin.Password))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	accessAt, refreshAt := epoch.Add(time.Hour), epoch.Add(7*24*time.Hour)
	for name, bearer := range map[string]devicehive.Secret{
		"admin login bearer":         login.AccessToken,
		"offline ManageToken bearer": e.manageTokenBearer(),
	} {
		t.Run(name, func(t *testing.T) {
			pair, err := e.client.Create(t.Context(), bearer, sensorRights(e.user.ID), accessAt, refreshAt)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !pair.AccessExpiresAt.Equal(accessAt) || !pair.RefreshExpiresAt.Equal(refreshAt) {
				t.Fatalf("expiries = %v, %v", pair.AccessExpiresAt, pair.RefreshExpiresAt)
			}
			runChecks(t, e.srv, pair.AccessToken, sensorChecks)
		})
	}
}

func TestClient_Create_wireFormat(t *testing.T) {
	e := newEnv(t)
	var sent []byte
	client, err := devicehive.New(devicehive.Config{URL: e.srv.URL(), Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(sent))
		return http.DefaultTransport.RoundTrip(r)
	})})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	accessAt := time.Date(2026, 12, 31, 23, 59, 59, 0, time.FixedZone("CET", 3600))
	refreshAt := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	if _, err := client.Create(t.Context(), e.manageTokenBearer(), sensorRights(e.user.ID), accessAt, refreshAt); err != nil {
		t.Fatalf("Create: %v", err)
	}
	want := `{"userId":2,"actions":["GetDevice","GetDeviceNotification"],"networkIds":["1","3"],"deviceTypeIds":["*"],` +
		`"expiration":"2026-12-31T22:59:59.000","refreshExpiration":"2027-06-30T00:00:00.000"}`
	if string(sent) != want {
		t.Fatalf("body = %s\nwant   %s", sent, want)
	}
}

func TestClient_Create_invalidRightsMakeNoCall(t *testing.T) {
	e := newEnv(t)
	for name, mutate := range map[string]func(*devicehive.Rights){
		"empty actions":   func(r *devicehive.Rights) { r.Actions = []string{} },
		"unknown action":  func(r *devicehive.Rights) { r.Actions = []string{"GetDevice", "GetDevices"} },
		"star action":     func(r *devicehive.Rights) { r.Actions = []string{"*"} },
		"repeated action": func(r *devicehive.Rights) { r.Actions = []string{"GetDevice", "GetDevice"} },
		"no networks":     func(r *devicehive.Rights) { r.NetworkIDs = nil },
		"mixed star":      func(r *devicehive.Rights) { r.DeviceTypeIDs = []string{"*", "4"} },
		"no user":         func(r *devicehive.Rights) { r.UserID = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			r := sensorRights(e.user.ID)
			mutate(&r)
			_, err := e.client.Create(t.Context(), e.manageTokenBearer(), r, epoch.Add(time.Hour), epoch.Add(time.Hour))
			var re *devicehive.RightsError
			if !errors.As(err, &re) {
				t.Fatalf("Create = %v, want a *RightsError", err)
			}
		})
	}
	if n := e.srv.TotalCalls(); n != 0 {
		t.Fatalf("server saw %d calls", n)
	}
}

func TestClient_Create_errors(t *testing.T) {
	e := newEnv(t)
	at := epoch.Add(time.Hour)
	t.Run("locked user", func(t *testing.T) {
		locked := e.srv.AddUser(dhtest.User{Login: "gone", Password: "x"})
		_, err := e.client.Create(t.Context(), e.manageTokenBearer(), sensorRights(locked.ID), at, at)
		if !devicehive.IsUserLocked(err) || err.Error() != "devicehive: POST /token/create: 403: User is locked or disabled" {
			t.Fatalf("Create = %v", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		_, err := e.client.Create(t.Context(), e.manageTokenBearer(), sensorRights(42), at, at)
		if !devicehive.IsNotFound(err) || !strings.HasSuffix(err.Error(), "404: User with id = 42 not found") {
			t.Fatalf("Create = %v", err)
		}
	})
	t.Run("caller without ManageToken", func(t *testing.T) {
		bearer := devicehive.Secret(e.srv.MintFor(dhtest.Grant{UserID: e.admin.ID, ActionIDs: []int{3, 4}}))
		_, err := e.client.Create(t.Context(), bearer, sensorRights(e.user.ID), at, at)
		if !devicehive.IsAccessDenied(err) {
			t.Fatalf("Create = %v", err)
		}
	})
	t.Run("bearer signed with another key gets an HTML 401", func(t *testing.T) {
		other, _ := devicehive.NewSigner("secret")
		pair, _ := other.Mint(devicehive.Rights{UserID: e.admin.ID, Actions: []string{"ManageToken"}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}, at, at)
		_, err := e.client.Create(t.Context(), pair.AccessToken, sensorRights(e.user.ID), at, at)
		var ae *devicehive.APIError
		if !errors.As(err, &ae) || !devicehive.IsUnauthorized(err) || !strings.HasPrefix(ae.Message, "<!DOCTYPE html>") ||
			strings.Contains(ae.Message, "\n") || len(ae.Message) > 200 {
			t.Fatalf("Create = %#v", err)
		}
	})
	t.Run("expired bearer", func(t *testing.T) {
		bearer := devicehive.Secret(e.srv.MintFor(dhtest.Grant{UserID: e.admin.ID, ActionIDs: []int{15}, ExpiresAt: epoch.Add(-time.Second)}))
		_, err := e.client.Create(t.Context(), bearer, sensorRights(e.user.ID), at, at)
		if !devicehive.IsUnauthorized(err) {
			t.Fatalf("Create = %v", err)
		}
	})
}

func TestClient_Refresh(t *testing.T) {
	e := newEnv(t)
	pair, err := e.client.Create(t.Context(), e.manageTokenBearer(), sensorRights(e.user.ID), epoch.Add(time.Hour), epoch.Add(24*time.Hour))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	access, exp, err := e.client.Refresh(t.Context(), pair.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if !exp.Equal(epoch.Add(30 * time.Minute)) {
		t.Fatalf("expiry = %v", exp)
	}
	runChecks(t, e.srv, access, sensorChecks)

	_, _, err = e.client.Refresh(t.Context(), pair.AccessToken)
	if !devicehive.IsUnauthorized(err) || !strings.HasSuffix(err.Error(), "401: Invalid token type") {
		t.Fatalf("Refresh with an access token = %v", err)
	}

	e.clock.Step(24*time.Hour + time.Millisecond)
	_, _, err = e.client.Refresh(t.Context(), pair.RefreshToken)
	if !devicehive.IsTokenExpired(err) {
		t.Fatalf("Refresh with an expired token = %v", err)
	}

	e.clock.SetTime(epoch)
	e.srv.SetUserActive(e.user.ID, false)
	_, _, err = e.client.Refresh(t.Context(), pair.RefreshToken)
	var ae *devicehive.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Message != "" {
		t.Fatalf("Refresh for a locked user = %v, want a 401 with an empty body", err)
	}
}

func TestClient_faults(t *testing.T) {
	e := newEnv(t)
	rights := sensorRights(e.user.ID)
	at := epoch.Add(time.Hour)
	t.Run("FailNext is transient", func(t *testing.T) {
		e.srv.FailNext(1)
		_, err := e.client.Create(t.Context(), e.manageTokenBearer(), rights, at, at)
		if !devicehive.IsTransient(err) || devicehive.IsTimeout(err) {
			t.Fatalf("Create = %v", err)
		}
		if _, err := e.client.Create(t.Context(), e.manageTokenBearer(), rights, at, at); err != nil {
			t.Fatalf("Create after the fault: %v", err)
		}
	})
	t.Run("LoseNextReply is transient and the call took effect", func(t *testing.T) {
		e.srv.ResetCalls()
		e.srv.LoseNextReply(dhtest.KindCreate)
		_, err := e.client.Create(t.Context(), e.manageTokenBearer(), rights, at, at)
		if !devicehive.IsTransient(err) {
			t.Fatalf("Create = %v", err)
		}
		if n := e.srv.Calls(dhtest.KindCreate); n != 1 {
			t.Fatalf("create calls = %d", n)
		}
	})
	t.Run("SetDelay beyond the timeout is a transient timeout", func(t *testing.T) {
		client, _ := devicehive.New(devicehive.Config{URL: e.srv.URL(), Timeout: 50 * time.Millisecond})
		e.srv.SetDelay(500 * time.Millisecond)
		defer e.srv.SetDelay(0)
		_, err := client.Create(t.Context(), e.manageTokenBearer(), rights, at, at)
		if !devicehive.IsTimeout(err) || !devicehive.IsTransient(err) {
			t.Fatalf("Create = %v", err)
		}
	})
}

func TestNew_config(t *testing.T) {
	for name, cfg := range map[string]devicehive.Config{
		"empty url":          {},
		"relative url":       {URL: "/auth/rest"},
		"ftp url":            {URL: "ftp://dh.example.com/auth/rest"},
		"credentials in url": {URL: "https://admin:s3cret@dh.example.com/auth/rest"},
		"query":              {URL: "https://dh.example.com/auth/rest?x=1"},
		"bare question mark": {URL: "https://dh.example.com/auth/rest?"},
		"bad ca":             {URL: "https://dh.example.com/auth/rest", CABundle: []byte("not pem")},
		"transport and ca":   {URL: "https://dh.example.com", InsecureSkipTLSVerify: true, Transport: http.DefaultTransport},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := devicehive.New(cfg)
			var ce *devicehive.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("New = %v, want a *ConfigError", err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error quotes the URL's password: %v", err)
			}
		})
	}
}

func TestClient_tlsAndRedirects(t *testing.T) {
	tokens := fakeTokens(t)
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/dh/rest/token" {
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(tokens)
			return
		}
		http.Redirect(w, r, "https://elsewhere.example.com/steal", http.StatusTemporaryRedirect)
	}))
	defer ts.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})

	untrusting, _ := devicehive.New(devicehive.Config{URL: ts.URL + "/dh/rest"})
	_, err := untrusting.Login(t.Context(), "u", "p")
	var unknownAuthority x509.UnknownAuthorityError
	if !errors.As(err, &unknownAuthority) || devicehive.IsTransient(err) {
		t.Fatalf("Login without the CA = %v", err)
	}
	trusting, err := devicehive.New(devicehive.Config{URL: ts.URL + "/dh/rest/", CABundle: caPEM})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := trusting.Login(t.Context(), "u", "p"); err != nil {
		t.Fatalf("Login with the CA: %v", err)
	}
	redirected, _ := devicehive.New(devicehive.Config{URL: ts.URL + "/elsewhere", CABundle: caPEM})
	_, err = redirected.Login(t.Context(), "u", "p")
	var ae *devicehive.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("Login answered by a redirect = %v, want the 307 itself", err)
	}
}

// fakeTokens is a login answer signed with the Docker default secret.
func fakeTokens(t *testing.T) map[string]string {
	t.Helper()
	s, _ := devicehive.NewSigner("secret")
	pair, err := s.Mint(devicehive.Rights{UserID: 1, Actions: []string{"GetDevice"}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"}}, epoch, epoch)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return map[string]string{"accessToken": pair.AccessToken.Reveal(), "refreshToken": pair.RefreshToken.Reveal()}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClient_Create_refusesWhatItDidNotAskFor answers /token/create with
// tokens other than the request: the client must not hand them out.
func TestClient_Create_refusesWhatItDidNotAskFor(t *testing.T) {
	signer, _ := devicehive.NewSigner("devicehive")
	asked := sensorRights(2)
	wider := asked
	wider.Actions = append([]string{"ManageToken"}, asked.Actions...)
	widerPair, _ := signer.Mint(wider, epoch, epoch)
	askedPair, _ := signer.Mint(asked, epoch, epoch)
	tests := map[string]struct {
		access, refresh devicehive.Secret
		want            error
	}{
		"wider access token":  {widerPair.AccessToken, askedPair.RefreshToken, devicehive.ErrRightsMismatch},
		"wider refresh token": {askedPair.AccessToken, widerPair.RefreshToken, devicehive.ErrRightsMismatch},
		"swapped tokens":      {askedPair.RefreshToken, askedPair.AccessToken, devicehive.ErrInvalidToken},
		"not a token":         {"garbage", askedPair.RefreshToken, devicehive.ErrInvalidToken},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_ = json.NewEncoder(w).Encode(map[string]string{"accessToken": tt.access.Reveal(), "refreshToken": tt.refresh.Reveal()})
			}))
			defer ts.Close()
			client, _ := devicehive.New(devicehive.Config{URL: ts.URL})
			pair, err := client.Create(t.Context(), "bearer", asked, epoch, epoch)
			if !errors.Is(err, tt.want) || pair.AccessToken != "" {
				t.Fatalf("Create = %v, %v; want %v and no pair", pair, err, tt.want)
			}
		})
	}
}

func TestClient_RetryAfterOfAThrottledServer(t *testing.T) {
	e := newEnv(t)
	e.srv.ThrottleNext(1, 12*time.Second)
	client, _ := devicehive.New(devicehive.Config{URL: e.srv.URL(), Timeout: 5 * time.Second})
	at := time.Now().Add(time.Hour)
	_, err := client.Create(t.Context(), e.manageTokenBearer(), sensorRights(e.user.ID), at, at)
	if !devicehive.IsTransient(err) || devicehive.RetryAfterOf(err) != 12*time.Second {
		t.Fatalf("Create = %v, RetryAfter %v", err, devicehive.RetryAfterOf(err))
	}
}
