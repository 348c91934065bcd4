package devicehive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tokenoperator/token-operator/internal/remote"
)

// Messages the server uses, verbatim.
const (
	msgUserLocked   = "User is locked or disabled"
	msgAccessDenied = "Access is denied"
	msgTokenExpired = "Token has expired"
)

// maxMessageLen bounds a message taken from a non-JSON body (HTML pages).
const maxMessageLen = 200

// APIError is a non-2xx answer from the auth service.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Path is the call below the base URL, e.g. "/token/create".
	Path string
	// Code is the body's "error" (or Spring's "status") number; 0 if absent.
	Code int
	// Message is the body's "message", or for a non-JSON body its first 200
	// characters with whitespace collapsed; empty for an empty body.
	Message string
	// RetryAfter is the Retry-After of a 429 or 503, bounded (remote.RetryAfter).
	RetryAfter time.Duration
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

// Error reads like "devicehive: POST /token/create: 403: Access is denied".
func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("devicehive: POST %s: %d %s", e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	}
	return fmt.Sprintf("devicehive: POST %s: %d: %s", e.Path, e.StatusCode, e.Message)
}

// RightsError is a Rights value refused before any call or signature.
type RightsError struct {
	// Field is the JSON name of the offending field: userId, actions,
	// networkIds or deviceTypeIds.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error reads like "devicehive: invalid rights: actions: must not be empty...".
func (e *RightsError) Error() string {
	return "devicehive: invalid rights: " + e.Field + ": " + e.Reason
}

// ConfigError is a configuration the client or signer cannot work with: the
// user must fix it, retrying will not help.
type ConfigError struct {
	// Field is the configuration field: url, caBundle, transport or secret.
	Field string
	// Reason says what is wrong, never quoting a secret.
	Reason string
}

// Error reads like "devicehive: invalid config: url: scheme must be http or https".
func (e *ConfigError) Error() string {
	return "devicehive: invalid config: " + e.Field + ": " + e.Reason
}

// configError turns a refusal of internal/remote into a *ConfigError.
func configError(err error) error {
	var fe *remote.FieldError
	if errors.As(err, &fe) {
		return &ConfigError{Field: fe.Field, Reason: fe.Reason}
	}
	return err
}

// IsUnauthorized reports a 401: a bad, expired or unknown token or login.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports a 403.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsNotFound reports a 404, e.g. "User with id = 42 not found".
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsUserLocked reports 403 "User is locked or disabled".
func IsUserLocked(err error) bool {
	return hasStatusMessage(err, http.StatusForbidden, msgUserLocked)
}

// IsAccessDenied reports 403 "Access is denied": the caller's token lacks
// ManageToken.
func IsAccessDenied(err error) bool {
	return hasStatusMessage(err, http.StatusForbidden, msgAccessDenied)
}

// IsTokenExpired reports 401 "Token has expired" (refresh with a dead
// refresh token).
func IsTokenExpired(err error) bool {
	return hasStatusMessage(err, http.StatusUnauthorized, msgTokenExpired)
}

// IsTimeout reports a call that ran out of time (client timeout or context
// deadline).
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// IsTransient reports a failure worth retrying as is: 5xx, 429, timeouts and
// dropped or refused connections, and names that do not resolve.
func IsTransient(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests
	}
	if IsTimeout(err) {
		return true
	}
	// A name that does not resolve may yet (a service being deployed), as a
	// refused connection may be accepted: both back off and retry, as the AWX
	// client's do.
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

func hasStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == status
}

func hasStatusMessage(err error, status int, message string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == status && ae.Message == message
}

// newAPIError reads an error body: DeviceHive's {"error": 403, "message": …},
// Spring Boot's {"status": 401, "error": "Unauthorized", "message": …}, an
// HTML page, or nothing. Values the call sent are scrubbed from the message
// in case a server echoes them.
func newAPIError(status int, path string, body []byte, sent ...Secret) *APIError {
	e := &APIError{StatusCode: status, Path: path}
	var shaped struct {
		Error   json.RawMessage `json:"error"`
		Status  *int            `json:"status"`
		Message *string         `json:"message"`
	}
	if json.Unmarshal(body, &shaped) == nil && shaped.Message != nil {
		e.Message = scrub(*shaped.Message, sent)
		if code, err := strconv.Atoi(string(shaped.Error)); err == nil {
			e.Code = code
		} else if shaped.Status != nil {
			e.Code = *shaped.Status
		}
	} else {
		// Scrub before cutting, so no partial value survives the cut.
		e.Message = snippet(scrub(string(body), sent))
	}
	return e
}

// snippet collapses whitespace and keeps the first maxMessageLen characters.
func snippet(body string) string {
	s := []rune(strings.Join(strings.Fields(body), " "))
	if len(s) > maxMessageLen {
		s = s[:maxMessageLen]
	}
	return string(s)
}

// jwtLike matches anything shaped like a compact JWT.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`)

// scrub removes sent values and anything JWT-shaped from a server message.
func scrub(msg string, sent []Secret) string {
	for _, s := range sent {
		if v := s.Reveal(); v != "" {
			msg = strings.ReplaceAll(msg, v, redacted)
		}
	}
	return jwtLike.ReplaceAllString(msg, redacted)
}
