package devicehive

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds each call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config locates the auth service and says how to trust it.
type Config struct {
	// URL is the auth REST base, path included: https://dh.example.com/auth/rest
	// (Docker images, nginx), /dh/rest (bare jar) or /api/rest (proxied).
	// "/token", "/token/create" and "/token/refresh" are appended to it.
	URL string
	// CABundle is PEM certificates to trust instead of the system roots.
	CABundle []byte
	// InsecureSkipTLSVerify turns off server certificate checks.
	InsecureSkipTLSVerify bool
	// Timeout bounds each call; DefaultTimeout when zero.
	Timeout time.Duration
	// Transport replaces the default transport (tests, proxies). It excludes
	// CABundle and InsecureSkipTLSVerify, which it could not honour.
	Transport http.RoundTripper
}

// Client calls the DeviceHive auth service. It is safe for concurrent use.
type Client struct {
	base string
	http *http.Client
}

// New checks the configuration and builds a client; a bad URL or CA bundle
// gives a *ConfigError.
func New(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	transport, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{
		base: base,
		http: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect would carry a password or token to wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// parseBaseURL refuses anything but an absolute http(s) URL without
// credentials, query or fragment. Errors never quote the URL: it may hold a
// password.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case raw == "":
		return "", &ConfigError{Field: "url", Reason: "is required"}
	case err != nil:
		return "", &ConfigError{Field: "url", Reason: "is not a valid URL"}
	case u.Scheme != "http" && u.Scheme != "https":
		return "", &ConfigError{Field: "url", Reason: "must be an absolute http or https URL"}
	case u.Host == "":
		return "", &ConfigError{Field: "url", Reason: "has no host"}
	case u.User != nil:
		return "", &ConfigError{Field: "url", Reason: "must not hold credentials: give them in a Secret"}
	case u.RawQuery != "" || u.Fragment != "":
		return "", &ConfigError{Field: "url", Reason: "must not have a query or fragment"}
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func newTransport(cfg Config) (http.RoundTripper, error) {
	if cfg.Transport != nil {
		if len(cfg.CABundle) > 0 || cfg.InsecureSkipTLSVerify {
			return nil, &ConfigError{Field: "transport", Reason: "cannot be combined with caBundle or insecureSkipTLSVerify"}
		}
		return cfg.Transport, nil
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipTLSVerify} // only when the user asks
	if len(cfg.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CABundle) {
			return nil, &ConfigError{Field: "caBundle", Reason: "holds no PEM certificate"}
		}
		tlsConfig.RootCAs = pool
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsConfig
	return t, nil
}
