package awx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenoperator/token-operator/internal/remote"
)

// maxDetailChars bounds the text an error keeps from a reply body that is not
// AWX's JSON (an HTML page from a proxy, say).
const maxDetailChars = 200

// externalProviderRefusal starts the 403 detail AWX and the gateway send when
// a user from LDAP, SAML or another external provider asks for a token.
const externalProviderRefusal = "(access_denied) OAuth2 Tokens cannot be created by users associated with an external authentication provider"

// ErrMalformedReply is wrapped by a RequestError when a 2xx reply could not be
// decoded as the JSON the call expects.
var ErrMalformedReply = errors.New("malformed reply")

// ErrInvalidRequest is a request the client refuses to send, because AWX would
// read it otherwise than meant.
var ErrInvalidRequest = errors.New("invalid request")

// ErrNoTokenValue is returned by CreateToken when AWX answered 201 without a
// usable value; the token exists (its ID is returned) and must be deleted.
// It wraps ErrMalformedReply.
var ErrNoTokenValue = fmt.Errorf("%w: create reply carried no token value", ErrMalformedReply)

// APIError is a reply from AWX with a status other than 2xx. Detail holds the
// DRF "detail" text (or the start of a non-JSON body); FieldErrors holds
// validation messages by field name.
type APIError struct {
	StatusCode  int
	Method      string
	Path        string
	Detail      string
	FieldErrors map[string][]string
	// FromAWX: the body was Django REST framework's JSON with a "detail", as AWX
	// itself answers, not a page from a proxy in front of it.
	FromAWX bool
	// RetryAfter is the Retry-After of a 429 or 503, bounded (remote.RetryAfter).
	RetryAfter time.Duration
}

// Error reads like `awx: POST /api/v2/users/5/personal_tokens/: 400: scope: Must be ...`.
func (e *APIError) Error() string {
	var parts []string
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	fields := make([]string, 0, len(e.FieldErrors))
	for f := range e.FieldErrors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+strings.Join(e.FieldErrors[f], " "))
	}
	if len(parts) == 0 {
		parts = append(parts, strings.ToLower(http.StatusText(e.StatusCode)))
	}
	return fmt.Sprintf("awx: %s %s: %d: %s", e.Method, e.Path, e.StatusCode, strings.Join(parts, "; "))
}

// RequestError is a request that got no usable reply: the connection failed
// or was dropped, the request timed out, or a 2xx body could not be decoded.
type RequestError struct {
	Method string
	Path   string
	Err    error
	// neverSent: no attempt got a connection, so nothing of the request went
	// out. False unless known: the safe side.
	neverSent bool
}

// Error names the call and the cause, never the query string.
func (e *RequestError) Error() string {
	return fmt.Sprintf("awx: %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the cause, so errors.Is(err, context.DeadlineExceeded) works.
func (e *RequestError) Unwrap() error { return e.Err }

// ConfigError is a Config that cannot work: a bad URL, API or CA bundle.
// It never echoes the URL, which could carry credentials.
type ConfigError struct {
	Field  string
	Reason string
}

// Error reads like `awx: invalid config: url: scheme must be http or https`.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("awx: invalid config: %s: %s", e.Field, e.Reason)
}

// configError turns a refusal of internal/remote into a *ConfigError.
func configError(err error) error {
	var fe *remote.FieldError
	if errors.As(err, &fe) {
		return &ConfigError{Field: fe.Field, Reason: fe.Reason}
	}
	return err
}

func statusOf(err error) int {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsUnauthorized reports a 401: no, wrong or expired credentials.
func IsUnauthorized(err error) bool { return statusOf(err) == http.StatusUnauthorized }

// IsForbidden reports a 403 (including an external provider refusal).
func IsForbidden(err error) bool { return statusOf(err) == http.StatusForbidden }

// IsNotFound reports a 404: the token (or user) does not exist or is hidden.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsGone reports a 404 that AWX itself sent ({"detail": ...}): the token does not
// exist, or is hidden from the caller. A 404 page from a proxy says nothing about
// the token.
func IsGone(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && apiErr.FromAWX
}

// RetryAfterOf is how long the server asked to wait before retrying (429, 503),
// bounded; zero when it did not say.
func RetryAfterOf(err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.RetryAfter
	}
	return 0
}

// IsBadRequest reports a 400, usually a validation error in FieldErrors.
func IsBadRequest(err error) bool { return statusOf(err) == http.StatusBadRequest }

// IsServerError reports a 5xx reply.
func IsServerError(err error) bool { return statusOf(err) >= 500 && statusOf(err) <= 599 }

// IsExternalProviderRefusal reports the 403 AWX sends when the user comes
// from an external authentication provider and may not own tokens.
func IsExternalProviderRefusal(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden &&
		strings.HasPrefix(apiErr.Detail, externalProviderRefusal)
}

// IsTimeout reports a request that ran out of time (the client Timeout or the
// caller's deadline).
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// IsTransient reports an error worth retrying: 5xx, 429, 408, timeouts and
// connection failures, including a connection dropped before the reply.
// A dropped create may have created the token: find it by its marker.
func IsTransient(err error) bool {
	switch s := statusOf(err); {
	case s >= 500 && s <= 599, s == http.StatusTooManyRequests, s == http.StatusRequestTimeout:
		return true
	case s != 0:
		return false
	}
	var reqErr *RequestError
	if !errors.As(err, &reqErr) {
		return false
	}
	if IsTimeout(err) {
		return true
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, ErrMalformedReply) && !isCertificateError(err)
}

// NeverSent tells a request that failed before anything of it could reach
// AWX: no attempt got a connection (refused, a name that does not resolve, no
// route, AWX's certificate refused). A create that failed so certainly created
// nothing. Once a connection was had, even if a retry on another one failed to
// connect, the request may have gone out.
func NeverSent(err error) bool {
	var reqErr *RequestError
	return errors.As(err, &reqErr) && reqErr.neverSent
}

// isCertificateError spots TLS verification failures: a wrong CA bundle does
// not heal by retrying.
func isCertificateError(err error) bool {
	var (
		unknownAuthority x509.UnknownAuthorityError
		invalid          x509.CertificateInvalidError
		hostname         x509.HostnameError
		verification     *tls.CertificateVerificationError
	)
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalid) ||
		errors.As(err, &hostname) || errors.As(err, &verification)
}

// scrub replaces every secret, as sent and as an HTML or JSON page would escape
// it, before the body is parsed or cut, so that not even a part survives.
func scrub(body []byte, secrets []string) []byte {
	for _, secret := range secrets {
		quoted, _ := json.Marshal(secret)
		for _, form := range []string{secret, html.EscapeString(secret), string(quoted[1 : len(quoted)-1])} {
			body = bytes.ReplaceAll(body, []byte(form), []byte(redacted))
		}
	}
	return body
}

// newAPIError builds an APIError from a non-2xx reply. The body is parsed, never
// echoed: AWX's JSON gives detail and field errors; anything else keeps only
// its first 200 characters with white space collapsed.
func newAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err == nil && obj != nil {
		for k, raw := range obj {
			msgs := messages(raw)
			if k == "detail" {
				e.Detail, e.FromAWX = strings.Join(msgs, " "), true
				continue
			}
			if e.FieldErrors == nil {
				e.FieldErrors = map[string][]string{}
			}
			e.FieldErrors[k] = msgs
		}
		return e
	}
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err == nil {
		var msgs []string
		for _, raw := range list {
			msgs = append(msgs, messages(raw)...)
		}
		e.Detail = strings.Join(msgs, " ")
		return e
	}
	e.Detail = truncate(strings.Join(strings.Fields(string(body)), " "))
	return e
}

// messages turns one DRF error value (a string, a list of strings, or
// something nested) into plain texts.
func messages(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, item := range list {
			out = append(out, messages(item)...)
		}
		return out
	}
	return []string{truncate(string(raw))}
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= maxDetailChars {
		return s
	}
	runes := []rune(s)
	return string(runes[:maxDetailChars])
}
