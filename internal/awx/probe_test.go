package awx_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestClient_Probe(t *testing.T) {
	controller := awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorController})
	gateway := awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	notAWX := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notAWX.Close)
	tests := []struct {
		name     string
		url      string
		api      awx.API
		want     awx.API
		mismatch bool
	}{
		{"Auto finds the controller API", controller.URL(), awx.APIAuto, awx.APIController, false},
		{"Auto finds the gateway", gateway.URL(), awx.APIAuto, awx.APIGateway, false},
		{"Controller on a controller", controller.URL(), awx.APIController, awx.APIController, false},
		{"Controller behind a gateway", gateway.URL(), awx.APIController, awx.APIController, false},
		{"Gateway on a gateway", gateway.URL(), awx.APIGateway, awx.APIGateway, false},
		{"Gateway on a controller: the other flavour", controller.URL(), awx.APIGateway, "", true},
		{"Auto on a server that is no AWX", notAWX.URL, awx.APIAuto, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := awx.New(awx.Config{URL: tt.url, API: tt.api}, awx.Credentials{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Probe(context.Background())
			if tt.mismatch {
				if !errors.Is(err, awx.ErrAPINotServed) {
					t.Fatalf("Probe() = %q, %v; want ErrAPINotServed", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Probe() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
