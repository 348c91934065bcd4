package remote

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"sync"
)

// NewTransport clones http.DefaultTransport (proxy settings, timeouts) and
// requires TLS 1.2 or later. A non-empty caBundle (PEM) replaces the system
// roots; it must hold at least one certificate, else a *FieldError on
// FieldCABundle. insecureSkipTLSVerify turns certificate checks off.
func NewTransport(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
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

// SharedTransport is NewTransport's transport for caBundle and
// insecureSkipTLSVerify, made once and shared by every client with the same
// settings: its connections are kept alive and reused from one reconcile to the
// next, instead of each client opening (and a TLS handshake, and keeping idle)
// connections of its own.
func SharedTransport(caBundle []byte, insecureSkipTLSVerify bool) (*http.Transport, error) {
	key := transportKey{sha256.Sum256(caBundle), insecureSkipTLSVerify}
	if t, ok := transports.Load(key); ok {
		return t.(*http.Transport), nil
	}
	t, err := NewTransport(caBundle, insecureSkipTLSVerify)
	if err != nil {
		return nil, err
	}
	shared, _ := transports.LoadOrStore(key, t)
	return shared.(*http.Transport), nil
}

type transportKey struct {
	caBundle [sha256.Size]byte
	insecure bool
}

// transports are the shared transports, one per distinct TLS setting: as many as
// issuers' CA bundles at most.
var transports sync.Map
