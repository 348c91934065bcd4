package remote

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
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
