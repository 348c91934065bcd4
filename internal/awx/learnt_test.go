package awx_test

import (
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// A client started from what another with the same credentials learnt (the API,
// the controller API's path, the user) asks nothing before its create.
func TestClient_StartFrom(t *testing.T) {
	for _, f := range flavours {
		for _, api := range []awx.API{awx.APIAuto, f.api} {
			t.Run(f.name+"/"+string(api), func(t *testing.T) {
				e := newEnv(t, awxtest.Options{Flavor: f.server})
				first := newClient(t, e.srv.URL(), api, login(e.alice))
				if _, known := first.Learnt().User(); known {
					t.Fatal("a new client has learnt a user")
				}
				me, err := first.Me(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				learnt := first.Learnt()
				if u, known := learnt.User(); !known || u != me {
					t.Fatalf("Learnt().User() = %+v, %v; want %+v", u, known, me)
				}

				e.srv.ResetCalls()
				second := newClient(t, e.srv.URL(), api, login(e.alice))
				second.StartFrom(learnt)
				tok := mustCreate(t, second, awx.CreateRequest{Description: "second", Scopes: write})
				if n := e.srv.TotalCalls(); n != 1 {
					t.Errorf("%d requests for one create, want 1", n)
				}
				if user, _, ok := e.srv.Authenticate(tok.Value.Reveal()); !ok || user != me.Username {
					t.Errorf("the token belongs to %q, want %q", user, me.Username)
				}
			})
		}
	}
}
