package remote_test

import (
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tokenoperator/token-operator/internal/remote"
)

// A shared transport is kept while clients ask for it, and forgotten once none
// has for TransportIdle, or when more TLS settings than MaxTransports crowd it
// out, so that CA bundles replaced over months do not pile up.
func TestTransportCache_ForgetsTransportsNoClientAsksFor(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Now())
	get := remote.NewTransportCache(clock)
	first, err := get(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		clock.Step(remote.TransportIdle - time.Minute)
		if again, _ := get(nil, false); again != first {
			t.Fatal("a transport in use was forgotten")
		}
	}
	clock.Step(remote.TransportIdle + time.Second)
	if again, _ := get(nil, false); again == first {
		t.Error("a transport no client asked for in TransportIdle was kept")
	}

	kept, _ := get(nil, true)
	for range remote.MaxTransports {
		// Another CA bundle each time, as rotated CAs would be.
		if _, err := get(selfSignedPEM(t), false); err != nil {
			t.Fatal(err)
		}
	}
	if again, _ := get(nil, true); again == kept {
		t.Error("more TLS settings than MaxTransports did not crowd out the least recently used")
	}
}
