package remote

import (
	"net/http"

	"k8s.io/apimachinery/pkg/util/cache"
)

// NewTransportCache is a cache of shared transports of the tests' own, on their
// clock.
func NewTransportCache(clock cache.Clock) func(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	return newTransportCache(clock).get
}

const (
	TransportIdle = transportIdle
	MaxTransports = maxTransports
)
