package remote

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/cache"
	"k8s.io/utils/clock"
)

// NewTransport clones http.DefaultTransport (proxy settings, timeouts), keeps
// up to idleConnsPerHost connections to a host alive, and requires TLS 1.2 or
// later. A non-empty caBundle (PEM) replaces the system
// roots; it must hold at least one certificate, else a *FieldError on
// FieldCABundle. insecureSkipTLSVerify turns certificate checks off.
func NewTransport(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerHost
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipTLSVerify} //nolint:gosec // only when the user asks
	if len(caBundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, &FieldError{Field: FieldCABundle, Reason: "no PEM certificate found"}
		}
		t.TLSClientConfig.RootCAs = pool
	}
	return t, nil
}

// idleConnsPerHost is how many kept-alive connections to one remote host wait
// for the next call. Go keeps 2 by default: of a burst of mints at one issuer
// (8 calls at once by default, --remote-calls-per-issuer), all but 2 would
// close their connection, and the next burst pay a TCP and TLS handshake each.
// 64 is above the calls one host can get at once at the default workers (16
// per kind); idle ones close after http.DefaultTransport's 90 s.
const idleConnsPerHost = 64

// SharedTransport is NewTransport's transport for caBundle and
// insecureSkipTLSVerify, made once and shared by every client with the same
// settings: its connections are kept alive and reused from one reconcile to the
// next, instead of each client opening (and a TLS handshake, and keeping idle)
// connections of its own.
func SharedTransport(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	return transports.get(caBundle, insecureSkipTLSVerify)
}

// A shared transport no client has asked for in transportIdle is forgotten (an
// issuer whose CA bundle changed leaves its old one), and so is the least
// recently used beyond maxTransports. The clients still holding a forgotten
// transport keep working, and its idle connections close on their own.
const (
	transportIdle = time.Hour
	maxTransports = 64
)

var transports = newTransportCache(clock.RealClock{})

// transportCache holds the shared transports, one per distinct TLS setting.
type transportCache struct {
	mu  sync.Mutex
	lru *cache.LRUExpireCache // transportKey → *http.Transport
}

func newTransportCache(clock cache.Clock) *transportCache {
	return &transportCache{lru: cache.NewLRUExpireCacheWithClock(maxTransports, clock)}
}

func (c *transportCache) get(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	key := transportKey{sha256.Sum256(caBundle), insecureSkipTLSVerify}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.lru.Get(key); ok {
		c.lru.Add(key, t, transportIdle)
		return t.(*http.Transport), nil
	}
	t, err := NewTransport(caBundle, insecureSkipTLSVerify)
	if err != nil {
		return nil, err
	}
	c.lru.Add(key, t, transportIdle)
	return t, nil
}

type transportKey struct {
	caBundle [sha256.Size]byte
	insecure bool
}
