package awx_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	clocktesting "k8s.io/utils/clock/testing"
)

// newRecorder is a minimal controller API that shows each request to see.
func newRecorder(t *testing.T, see func(*http.Request)) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		see(r)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v2/me/":
			_, _ = w.Write([]byte(`{"count": 1, "results": [{"id": 7, "username": "a"}]}`))
		case "/api/v2/tokens/":
			_, _ = w.Write([]byte(`{"count": 0, "next": null, "previous": null, "results": []}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"detail": "Not found."}`))
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestClient_SendsHeaders(t *testing.T) {
	var got []http.Header
	ts := newRecorder(t, func(r *http.Request) { got = append(got, r.Header.Clone()) })
	c := newClient(t, ts.URL, awx.APIController, bearer("tok-123"))
	desc := "d"
	_, _ = c.UpdateToken(ctx(t), 3, awx.Update{Description: &desc})
	if len(got) != 2 {
		t.Fatalf("%d requests, want me + patch", len(got))
	}
	for i, h := range got {
		if h.Get("Accept") != "application/json" || h.Get("User-Agent") != "token-operator" || h.Get("Authorization") != "Bearer tok-123" {
			t.Errorf("request %d headers %v", i, h)
		}
	}
	if got[0].Get("Content-Type") != "" || got[1].Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type only on bodies: %q, %q", got[0].Get("Content-Type"), got[1].Get("Content-Type"))
	}
}

func TestClient_NonJSONErrorBody(t *testing.T) {
	page := "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n" + strings.Repeat("<p>upstream   went away</p>\n", 40) + "</body></html>"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(ts.Close)
	c := newClient(t, ts.URL, awx.APIController, awx.Credentials{Username: "u", Password: "a-real-password"})
	_, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "secret-ish description", Scopes: write})
	var apiErr *awx.APIError
	if !errors.As(err, &apiErr) || !awx.IsServerError(err) || !awx.IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
	if len([]rune(apiErr.Detail)) != 200 || !strings.HasPrefix(apiErr.Detail, "<html> <head><title>502 Bad Gateway</title></head> <body> <p>upstream went away</p>") {
		t.Errorf("detail %q", apiErr.Detail)
	}
	if strings.Contains(err.Error(), "secret-ish") {
		t.Error("request body in the error")
	}
}

func TestClient_MalformedSuccessIsNotTransient(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>login page</html>"))
	}))
	t.Cleanup(ts.Close)
	_, err := newClient(t, ts.URL, awx.APIController, awx.Credentials{}).Me(ctx(t))
	if !errors.Is(err, awx.ErrMalformedReply) || awx.IsTransient(err) {
		t.Errorf("err = %v", err)
	}
}

func TestClient_FailNext(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			e.srv.FailNext(2)
			for range 2 {
				_, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "x", Scopes: write})
				if !awx.IsServerError(err) || !awx.IsTransient(err) || !strings.HasSuffix(err.Error(), ": 500: A server error has occurred.") {
					t.Errorf("err = %v", err)
				}
			}
			if n := len(e.srv.LiveTokens("alice")); n != 0 {
				t.Errorf("a failed request made %d tokens", n)
			}
			if _, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "x", Scopes: write}); err != nil {
				t.Errorf("after the failures: %v", err)
			}
		})
	}
}

func TestClient_LostCreateReplyLeavesAnOrphan(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			if _, err := c.Me(ctx(t)); err != nil { // keep the connection warm
				t.Fatal(err)
			}
			e.srv.LoseNextReply(awxtest.KindCreate)
			marker := "[tokenoperator:orphan-1]"
			created, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "ci " + marker, Scopes: write})
			if err == nil || !awx.IsTransient(err) || created.Value != "" {
				t.Fatalf("CreateToken = %+v, %v; want a transient error", created, err)
			}
			live := e.srv.LiveTokens("alice")
			if len(live) != 1 || live[0].Description != "ci "+marker {
				t.Fatalf("live tokens %+v, want the orphan", live)
			}
			// Recovery: find it by marker among the caller's own tokens, delete it.
			found, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID, DescriptionContains: marker})
			if err != nil || len(found) != 1 || found[0].ID != live[0].ID {
				t.Fatalf("ListTokens = %+v, %v", found, err)
			}
			if err := c.DeleteToken(ctx(t), found[0].ID); err != nil {
				t.Fatal(err)
			}
			if n := len(e.srv.LiveTokens("alice")); n != 0 {
				t.Errorf("%d tokens left", n)
			}
		})
	}
}

func TestClient_Timeout(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	c, err := awx.New(awx.Config{URL: e.srv.URL(), API: awx.APIController, Timeout: 50 * time.Millisecond}, login(e.alice))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.SetDelay(2 * time.Second)
	start := time.Now()
	_, err = c.Me(ctx(t))
	if !awx.IsTimeout(err) || !awx.IsTransient(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a timeout", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	e.srv.SetDelay(0)
	if _, err := c.Me(ctx(t)); err != nil {
		t.Errorf("after the delay: %v", err)
	}
}

func TestClient_CallerCancellationIsNotTransient(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Me(cctx)
	if !errors.Is(err, context.Canceled) || awx.IsTransient(err) {
		t.Errorf("err = %v", err)
	}
}

func TestServer_FakeClockExpiresTokens(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			start := time.Date(2024, 7, 10, 12, 0, 0, 0, time.UTC)
			clk := clocktesting.NewFakePassiveClock(start)
			e := newEnv(t, awxtest.Options{Flavor: f.server, TokenLifetime: time.Hour, Clock: clk})
			tok := mustCreate(t, newClient(t, e.srv.URL(), f.api, login(e.alice)), awx.CreateRequest{Description: "short", Scopes: write})
			if !tok.Created.Equal(start) || !tok.Expires.Equal(start.Add(time.Hour)) {
				t.Errorf("created %v expires %v", tok.Created, tok.Expires)
			}
			c := newClient(t, e.srv.URL(), f.api, bearer(tok.Value))
			clk.SetTime(start.Add(59 * time.Minute))
			if _, err := c.Me(ctx(t)); err != nil {
				t.Errorf("before expiry: %v", err)
			}
			clk.SetTime(start.Add(time.Hour))
			if _, _, ok := e.srv.Authenticate(tok.Value.Reveal()); ok {
				t.Error("expired token authenticates")
			}
			if n := len(e.srv.LiveTokens("alice")); n != 0 {
				t.Errorf("%d live tokens after expiry", n)
			}
			if _, err := newClient(t, e.srv.URL(), f.api, bearer(tok.Value)).Me(ctx(t)); !awx.IsUnauthorized(err) {
				t.Errorf("after expiry: %v, want 401", err)
			}
		})
	}
}

func TestClient_CreateReplyWithoutValue(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/gateway/v1/tokens/":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id": 41, "user": 7, "token": "$encrypted$", "scope": "write", "created": "2024-07-10T12:00:00Z", "expires": "3024-07-10T12:00:00Z"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(ts.Close)
	got, err := newClient(t, ts.URL, awx.APIGateway, awx.Credentials{}).CreateToken(ctx(t), awx.CreateRequest{Scopes: write})
	if !errors.Is(err, awx.ErrNoTokenValue) || !errors.Is(err, awx.ErrMalformedReply) || awx.IsTransient(err) || got.ID != 41 {
		t.Errorf("CreateToken = %+v, %v; want ID 41 and ErrNoTokenValue", got, err)
	}
}

func TestClient_RedirectIsReportedNotFollowed(t *testing.T) {
	var methods []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method+" "+r.URL.Path)
		http.Redirect(w, r, "https://awx.example.com"+r.URL.Path+"?x=1", http.StatusMovedPermanently)
	}))
	t.Cleanup(ts.Close)
	_, err := newClient(t, ts.URL, awx.APIGateway, awx.Credentials{}).CreateToken(ctx(t), awx.CreateRequest{Scopes: write})
	want := "awx: POST /api/gateway/v1/tokens/: 301: redirected to https://awx.example.com/api/gateway/v1/tokens/; use the final URL"
	if err == nil || err.Error() != want || awx.IsTransient(err) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if len(methods) != 1 {
		t.Errorf("requests %v, want the POST only", methods)
	}
}

// A proxy that echoes the request's headers into its error page must not carry
// the credentials into an error text, whatever way it escapes them.
func TestClient_ErrorTextsNeverEchoCredentials(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		user, pass, _ := r.BasicAuth()
		_, _ = fmt.Fprintf(w, "<html>bad gateway for %s %s %s %s</html>", r.Header.Get("Authorization"), html.EscapeString(pass), pass, user)
	}))
	defer echo.Close()
	for name, creds := range map[string]awx.Credentials{
		"basic":  {Username: "alice", Password: "p<a>ss&w\"rd"},
		"bearer": {Token: "S3cr3tT0k3nValue0123456789abcd"},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, echo.URL, awx.APIController, creds)
			_, err := c.Me(context.Background())
			if err == nil {
				t.Fatal("want an error")
			}
			text := fmt.Sprintf("%v %+v %#v", err, err, err)
			for _, secret := range []string{string(creds.Password), html.EscapeString(string(creds.Password)), string(creds.Token), "Basic "} {
				if secret != "" && secret != "Basic " && strings.Contains(text, secret) {
					t.Errorf("error text carries a credential: %s", text)
				}
			}
			if name == "basic" && strings.Contains(text, "YWxpY2U6") {
				t.Errorf("error text carries the basic auth string: %s", text)
			}
		})
	}
}

func TestClient_CreateTokenRefusesNoScopes(t *testing.T) {
	e := newEnv(t, awxtest.Options{})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	_, err := c.CreateToken(context.Background(), awx.CreateRequest{Description: "x"})
	if !errors.Is(err, awx.ErrInvalidRequest) {
		t.Fatalf("want ErrInvalidRequest, got %v", err)
	}
	if got := e.srv.TotalCalls(); got != 0 {
		t.Errorf("want no call to AWX, got %d", got)
	}
}

func TestIsGone_OnlyAWXsOwn404(t *testing.T) {
	for body, want := range map[string]bool{
		`{"detail":"Not found."}`:                                   true,
		`<html><body><h1>404 Not Found</h1><hr>nginx</body></html>`: false,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(body))
		}))
		c := newClient(t, srv.URL, awx.APIController, bearer("test-bearer"))
		err := c.DeleteToken(ctx(t), 5)
		srv.Close()
		if !awx.IsNotFound(err) || awx.IsGone(err) != want {
			t.Errorf("%s: IsGone = %v, want %v (%v)", body, awx.IsGone(err), want, err)
		}
	}
}

func TestRetryAfter_IsReadAndBounded(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	for _, tc := range []struct {
		asked, want time.Duration
	}{{7 * time.Second, 7 * time.Second}, {3 * time.Hour, 5 * time.Minute}} {
		e.srv.ThrottleNext(1, tc.asked)
		_, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: 1})
		if !awx.IsTransient(err) || awx.RetryAfterOf(err) != tc.want {
			t.Errorf("asked %v: err %v, RetryAfter %v, want %v", tc.asked, err, awx.RetryAfterOf(err), tc.want)
		}
	}
}

func TestNeverSent_OnlyWhenNoConnectionWasMade(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	c, err := awx.New(awx.Config{URL: e.srv.URL(), API: awx.APIController, Timeout: 50 * time.Millisecond}, login(e.alice))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.FailNext(1)
	if _, err := c.Me(ctx(t)); err == nil || awx.NeverSent(err) {
		t.Errorf("a server error: NeverSent(%v) = true", err)
	}
	e.srv.SetDelay(time.Second)
	if _, err := c.Me(ctx(t)); !awx.IsTimeout(err) || awx.NeverSent(err) {
		t.Errorf("a reply that never came: NeverSent(%v) = true", err)
	}
	e.srv.SetDelay(0)
	e.srv.Close()
	_, err = c.CreateToken(ctx(t), awx.CreateRequest{Description: "nobody listens", Scopes: write})
	if !awx.NeverSent(err) || !awx.IsTransient(err) {
		t.Errorf("a refused connection: NeverSent(%v) = false, or not transient", err)
	}
}
