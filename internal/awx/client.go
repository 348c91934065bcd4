// Package awx is the REST client for AWX / Ansible Automation Platform
// personal access tokens, on the controller API (/api/v2/, or
// /api/controller/v2/ behind a platform gateway) and on the AAP gateway API
// (/api/gateway/v1/). Wire facts: docs/awx-api.md.
package awx

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/remote"
)

// API is an AWX API flavour.
type API string

const (
	// APIController is the AWX / automation controller API (/api/v2/).
	APIController API = "Controller"
	// APIGateway is the AAP 2.5+ platform gateway API (/api/gateway/v1/).
	APIGateway API = "Gateway"
	// APIAuto asks the client to detect the flavour on first use.
	APIAuto API = "Auto"
)

const (
	defaultTimeout = 30 * time.Second
	userAgent      = "token-operator"
	// maxReplyBytes bounds what is read from one reply; a 200-token page is
	// a few hundred kilobytes, so a server sending more is broken or hostile.
	maxReplyBytes = 4 << 20
)

// Config says where AWX is and how to reach it.
type Config struct {
	// URL is the base URL, e.g. https://awx.example.com; a trailing slash and
	// a path prefix are allowed.
	URL string
	// API is Auto (the default when empty), Controller or Gateway.
	API API
	// CABundle is PEM; the system roots are used when it is empty.
	CABundle []byte
	// InsecureSkipTLSVerify turns off certificate verification.
	InsecureSkipTLSVerify bool
	// Timeout bounds each request, reading the reply included; default 30s.
	Timeout time.Duration
	// Transport replaces the HTTP transport (CABundle and
	// InsecureSkipTLSVerify are then ignored); tests inject one.
	Transport http.RoundTripper
}

// Credentials authenticate as the AWX user the tokens are for: HTTP basic
// auth when Username is set, else a Bearer Token. Formatting them never
// shows the password or the token.
type Credentials struct {
	Username string
	Password Secret
	Token    Secret
}

// MarshalJSON keeps the password and token out of JSON logs.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"username": c.Username,
		"password": redactedIfSet(string(c.Password)), "token": redactedIfSet(string(c.Token))})
}

// LogValue keeps the password and token out of slog output.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username),
		slog.String("password", redactedIfSet(string(c.Password))), slog.String("token", redactedIfSet(string(c.Token))))
}

// Format prints the username only; fmt would show the password for most
// verbs otherwise.
func (c Credentials) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "awx.Credentials{Username: %q, Password: %s, Token: %s}",
		c.Username, redactedIfSet(string(c.Password)), redactedIfSet(string(c.Token)))
}

func redactedIfSet(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// Client talks to one AWX with one user's credentials. It is safe for
// concurrent use; the flavour, the controller API prefix and the user behind
// the credentials are looked up once and remembered.
type Client struct {
	base    *url.URL
	config  API
	creds   Credentials
	http    *http.Client
	timeout time.Duration

	// discovery serialises lookups of the flavour and the prefix; a channel
	// rather than a mutex so that waiting respects the caller's context.
	discovery chan struct{}

	mu     sync.Mutex
	api    API
	prefix string
	me     *User
}

// New checks cfg and returns a Client; a bad URL, API or CA bundle gives a
// *ConfigError. It makes no request.
func New(cfg Config, creds Credentials) (*Client, error) {
	base, err := remote.ParseBaseURL(cfg.URL)
	if err != nil {
		return nil, configError(err)
	}
	api := cfg.API
	switch api {
	case "":
		api = APIAuto
	case APIAuto, APIController, APIGateway:
	default:
		return nil, &ConfigError{Field: "api", Reason: "must be Auto, Controller or Gateway, not " + strconv.Quote(string(api))}
	}
	timeout := cfg.Timeout
	if timeout < 0 {
		return nil, &ConfigError{Field: "timeout", Reason: "must not be negative"}
	}
	if timeout == 0 {
		timeout = defaultTimeout
	}
	transport := cfg.Transport
	if transport == nil {
		t, err := remote.SharedTransport(cfg.CABundle, cfg.InsecureSkipTLSVerify)
		if err != nil {
			return nil, configError(err)
		}
		transport = t
	}
	c := &Client{
		base:   base,
		config: api,
		creds:  creds,
		http: &http.Client{
			Transport: transport,
			// A redirect (http to https, a moved host) would turn a POST into a
			// GET and might carry the credentials elsewhere: report it instead.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout:   timeout,
		discovery: make(chan struct{}, 1),
	}
	if api != APIAuto {
		c.api = api
	}
	return c, nil
}

// Format prints the URL and the configured flavour, never the credentials.
func (c *Client) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "awx.Client{URL: %q, API: %s}", c.base.String(), c.config)
}

// call sends one request to apiPath (an absolute path below the base URL,
// e.g. /api/v2/me/) and decodes a 2xx JSON reply into out (when not nil).
// A non-2xx reply is an *APIError; no reply is a *RequestError. op names the
// request in the operator's metrics.
func (c *Client) call(ctx context.Context, op, method, apiPath string, query url.Values, in, out any) error {
	path := c.base.Path + apiPath
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &RequestError{Method: method, Path: path, Err: err, neverSent: true}
		}
		body = bytes.NewReader(b)
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Whether any attempt got a connection, and so may have sent the request:
	// the transport may send it again on a new one (HTTP/2 after a reset) and
	// report only the second attempt's failure.
	var connected atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
	fail := func(err error) error {
		if parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no reply within %s: %w", c.timeout, err)
		}
		return &RequestError{Method: method, Path: path, Err: err, neverSent: !connected.Load()}
	}
	u := *c.base
	u.Path = path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		metrics.RemoteRequest(metrics.SystemAWX, op, 0, time.Since(start))
		return fail(unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	metrics.RemoteRequest(metrics.SystemAWX, op, resp.StatusCode, time.Since(start))
	if err != nil {
		return fail(unwrapURLError(err))
	}
	if len(reply) > maxReplyBytes {
		return fail(fmt.Errorf("%w: reply larger than %d bytes", ErrMalformedReply, maxReplyBytes))
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, Detail: redirectDetail(resp)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(method, path, resp.StatusCode, scrub(reply, c.sentSecrets()))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			apiErr.RetryAfter = remote.RetryAfter(resp.Header, time.Now())
		}
		return apiErr
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(reply, out); err != nil {
		// json errors name types and offsets, never the values.
		return fail(fmt.Errorf("%w: %v", ErrMalformedReply, err))
	}
	return nil
}

// redirectDetail names where a redirect points, without its query, so that
// the user can fix the URL.
func redirectDetail(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return "redirected; use the final URL"
	}
	loc.RawQuery, loc.Fragment, loc.User = "", "", nil
	return "redirected to " + loc.String() + "; use the final URL"
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.creds.Username != "":
		req.SetBasicAuth(c.creds.Username, c.creds.Password.Reveal())
	case c.creds.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.creds.Token.Reveal())
	}
}

// unwrapURLError drops *url.Error, whose text repeats the full URL with its
// query string; what is left names the cause only.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// resolveNext turns a list's "next" link into a path and query below the
// base URL. AWX sends a path (/api/v2/tokens/?page=2); a full URL is reduced
// to its path so that credentials never go to another host, and a path
// without the base URL's prefix (AWX behind a path-stripping proxy) gets it.
func (c *Client) resolveNext(next string) (string, url.Values, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", nil, fmt.Errorf("%w: next link is not a URL", ErrMalformedReply)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("%w: next link has a bad query", ErrMalformedReply)
	}
	p := u.Path
	if c.base.Path != "" && strings.HasPrefix(p, c.base.Path+"/") {
		p = strings.TrimPrefix(p, c.base.Path)
	}
	if !strings.HasPrefix(p, "/") {
		return "", nil, fmt.Errorf("%w: next link is not an absolute path", ErrMalformedReply)
	}
	return p, q, nil
}

// sentSecrets are the credentials as a request carries them, which a proxy or
// server may echo in an error page.
func (c *Client) sentSecrets() []string {
	var out []string
	if c.creds.Password != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(c.creds.Username + ":" + c.creds.Password.Reveal()))
		out = append(out, c.creds.Password.Reveal(), basic)
	}
	if c.creds.Token != "" {
		out = append(out, c.creds.Token.Reveal())
	}
	return out
}
