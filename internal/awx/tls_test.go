package awx_test

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestClient_TLS(t *testing.T) {
	srv := awxtest.NewUnstartedServer(awxtest.Options{Flavor: awxtest.FlavorController})
	alice := srv.AddUser(awxtest.User{Username: "alice", Password: "pw"})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})

	for _, tc := range []struct {
		name    string
		cfg     awx.Config
		wantErr bool
	}{
		{"CA bundle", awx.Config{URL: ts.URL, CABundle: ca}, false},
		{"insecure", awx.Config{URL: ts.URL, InsecureSkipTLSVerify: true}, false},
		{"system roots", awx.Config{URL: ts.URL}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := awx.New(tc.cfg, login(alice))
			if err != nil {
				t.Fatal(err)
			}
			me, err := c.Me(ctx(t))
			if tc.wantErr {
				if err == nil || awx.IsTransient(err) {
					t.Errorf("err = %v, want a certificate error that is not transient", err)
				}
				return
			}
			if err != nil || me.Username != "alice" {
				t.Errorf("Me = %+v, %v", me, err)
			}
		})
	}
}
