package devicehive

import (
	"net/http"
	"time"

	"github.com/tokenoperator/token-operator/internal/remote"
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
	base, err := remote.ParseBaseURL(cfg.URL)
	if err != nil {
		return nil, configError(err)
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
		base: base.String(),
		http: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect would carry a password or token to wherever it points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// newTransport is cfg.Transport when set, else a TLS transport built from
// CABundle and InsecureSkipTLSVerify.
func newTransport(cfg Config) (http.RoundTripper, error) {
	if cfg.Transport != nil {
		if len(cfg.CABundle) > 0 || cfg.InsecureSkipTLSVerify {
			return nil, &ConfigError{Field: "transport", Reason: "cannot be combined with caBundle or insecureSkipTLSVerify"}
		}
		return cfg.Transport, nil
	}
	t, err := remote.SharedTransport(cfg.CABundle, cfg.InsecureSkipTLSVerify)
	if err != nil {
		return nil, configError(err)
	}
	return t, nil
}
