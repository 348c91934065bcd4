package remote_test

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokenoperator/token-operator/internal/remote"
)

// A burst of calls at one issuer, as many at once as its default budget allows,
// reuses the connections of the last burst: no TCP or TLS handshake per call.
func TestNewTransport_ABurstReusesTheLastBurstsConnections(t *testing.T) {
	const burst, bursts = 8, 3
	var opened atomic.Int32
	inFlight := make(chan struct{}, burst)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		inFlight <- struct{}{}
		<-release
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr, err := remote.NewTransport(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), false)
	if err != nil {
		t.Fatal(err)
	}
	// HTTP/1.1, as AWX behind a proxy that does not offer HTTP/2 speaks: one
	// connection per call in flight.
	tr.ForceAttemptHTTP2 = false
	client := &http.Client{Transport: tr}

	for range bursts {
		var wg sync.WaitGroup
		errs := make(chan error, burst)
		for range burst {
			wg.Go(func() {
				resp, err := client.Get(srv.URL)
				if err != nil {
					errs <- err
					return
				}
				_ = resp.Body.Close()
			})
		}
		for range burst { // all of the burst in flight at once
			<-inFlight
		}
		for range burst {
			release <- struct{}{}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if got := opened.Load(); got != burst {
		t.Errorf("%d bursts of %d calls opened %d connections; want %d, each kept for the next burst", bursts, burst, got, burst)
	}
}
