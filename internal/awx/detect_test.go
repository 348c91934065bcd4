package awx_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestClient_API_AutoDetection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server awxtest.Flavor
		creds  func(*env) awx.Credentials
		want   awx.API
	}{
		{"controller", awxtest.FlavorController, func(e *env) awx.Credentials { return login(e.alice) }, awx.APIController},
		{"gateway", awxtest.FlavorGateway, func(e *env) awx.Credentials { return login(e.alice) }, awx.APIGateway},
		{"gateway answering 401", awxtest.FlavorGateway, func(*env) awx.Credentials { return awx.Credentials{Username: "x", Password: "y"} }, awx.APIGateway},
		{"controller, bad credentials", awxtest.FlavorController, func(*env) awx.Credentials { return awx.Credentials{} }, awx.APIController},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: tc.server})
			c := newClient(t, e.srv.URL(), awx.APIAuto, tc.creds(e))
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					if got, err := c.API(ctx(t)); err != nil || got != tc.want {
						t.Errorf("API = %q, %v; want %q", got, err, tc.want)
					}
				})
			}
			wg.Wait()
			if n := e.srv.TotalCalls(); n != 1 {
				t.Errorf("detection made %d requests, want 1", n)
			}
		})
	}
}

func TestClient_API_AutoThenTokens(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), awx.APIAuto, login(e.alice))
			tok := mustCreate(t, c, awx.CreateRequest{Description: "auto", Scopes: write})
			status, body := raw(t, http.MethodGet, e.srv.URL()+f.prefix+fmt.Sprintf("tokens/%d/", tok.ID), e.alice, "")
			if status != http.StatusOK || body["token"] != f.mask {
				t.Errorf("token not on %s: %d %v", f.prefix, status, body)
			}
		})
	}
}

func TestClient_API_ExplicitFlavourMakesNoProbe(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	if got, err := c.API(ctx(t)); err != nil || got != awx.APIController {
		t.Fatalf("API = %q, %v", got, err)
	}
	if n := e.srv.TotalCalls(); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestClient_Controller_FallsBackToControllerPathOnGateway(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	tok := mustCreate(t, c, awx.CreateRequest{Description: "via controller", Scopes: []string{"read", "write"}})

	status, body := raw(t, http.MethodGet, e.srv.URL()+fmt.Sprintf("/api/controller/v2/tokens/%d/", tok.ID), e.alice, "")
	if status != http.StatusOK || body["token"] != "************" {
		t.Errorf("controller token: %d %v", status, body)
	}
	if status, _ := raw(t, http.MethodGet, e.srv.URL()+fmt.Sprintf("/api/gateway/v1/tokens/%d/", tok.ID), e.alice, ""); status != http.StatusNotFound {
		t.Errorf("the gateway API shows a controller token: %d", status)
	}
	if _, _, ok := e.srv.Authenticate(tok.Value.Reveal()); !ok {
		t.Error("value does not authenticate")
	}
	list, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID})
	if err != nil || len(list) != 1 || list[0].ID != tok.ID {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
	if err := c.DeleteToken(ctx(t), tok.ID); err != nil {
		t.Errorf("DeleteToken: %v", err)
	}
}

func TestClient_API_DetectionErrorIsNotRemembered(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	c := newClient(t, e.srv.URL(), awx.APIAuto, login(e.alice))
	e.srv.FailNext(1)
	if _, err := c.API(ctx(t)); !awx.IsServerError(err) {
		t.Fatalf("API with a failing server: %v", err)
	}
	if got, err := c.API(ctx(t)); err != nil || got != awx.APIGateway {
		t.Errorf("API after recovery = %q, %v", got, err)
	}
}

func TestClient_URLWithPathPrefix(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	// A proxy that serves AWX under /awx and strips the prefix; AWX's next
	// links then lack it.
	proxy := httptest.NewServer(http.StripPrefix("/awx", e.srv))
	t.Cleanup(proxy.Close)
	c := newClient(t, proxy.URL+"/awx/", awx.APIAuto, login(e.alice))
	for i := range 205 {
		mustCreate(t, c, awx.CreateRequest{Description: fmt.Sprintf("prefixed %d", i), Scopes: write})
	}
	list, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID})
	if err != nil || len(list) != 205 {
		t.Fatalf("ListTokens: %d tokens, %v", len(list), err)
	}
	if n := e.srv.Calls(awxtest.KindList); n != 2 {
		t.Errorf("%d list pages, want 2", n)
	}
}
