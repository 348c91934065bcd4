package devicehive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
)

func Test_newAPIError(t *testing.T) {
	html := "<!DOCTYPE html>\n<html><head><title>Error</title></head>\n  <body>\t<h1>Whitelabel Error Page</h1>" + strings.Repeat(" filler", 60) + "</body></html>"
	tests := []struct {
		name        string
		status      int
		body        string
		wantCode    int
		wantMessage string
		wantError   string
	}{
		{
			name: "devicehive body", status: 403, body: `{"error": 403, "message": "Access is denied"}`,
			wantCode: 403, wantMessage: "Access is denied",
			wantError: "devicehive: POST /token/create: 403: Access is denied",
		},
		{
			name: "spring boot body", status: 401,
			body:     `{"timestamp":1,"status":401,"error":"Unauthorized","message":"Token expired","path":"/auth/rest/token/create"}`,
			wantCode: 401, wantMessage: "Token expired",
			wantError: "devicehive: POST /token/create: 401: Token expired",
		},
		{
			name: "empty body", status: 401, body: "",
			wantError: "devicehive: POST /token/create: 401 Unauthorized",
		},
		{
			name: "html body", status: 401, body: html,
			wantMessage: snippet(html),
		},
		{
			name: "json without message", status: 502, body: `{"oops": true}`,
			wantMessage: `{"oops": true}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIError(tt.status, "/token/create", []byte(tt.body))
			if e.StatusCode != tt.status || e.Path != "/token/create" || e.Code != tt.wantCode || e.Message != tt.wantMessage {
				t.Fatalf("got %+v", *e)
			}
			if tt.wantError != "" && e.Error() != tt.wantError {
				t.Fatalf("Error() = %q, want %q", e.Error(), tt.wantError)
			}
		})
	}
	msg := newAPIError(401, "/token/create", []byte(html)).Message
	if len([]rune(msg)) != maxMessageLen || strings.ContainsAny(msg, "\n\t") || strings.Contains(msg, "  ") {
		t.Fatalf("html message not cut to %d characters with whitespace collapsed: %q", maxMessageLen, msg)
	}
}

func Test_newAPIError_scrubsEchoedValues(t *testing.T) {
	bearer := Secret("eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjp7fX0.c2lnbmF0dXJl")
	password := Secret("hunter2-password")
	other := "eyJhbGciOiJIUzI1NiJ9.eyJ4Ijp7fX0.b3RoZXI"
	// The token sits across the 200-character cut: scrubbing must come first.
	body := strings.Repeat("x", 190) + " bad token " + bearer.Reveal() + " " + other + " for " + password.Reveal()
	for _, b := range []string{body, fmt.Sprintf(`{"error":401,"message":%q}`, body)} {
		e := newAPIError(401, "/token/create", []byte(b), bearer, password)
		for _, leaked := range []string{bearer.Reveal(), password.Reveal(), other, bearer.Reveal()[:12], "hunter2"} {
			if strings.Contains(e.Error(), leaked) {
				t.Fatalf("error text holds %q: %s", leaked, e.Error())
			}
		}
	}
}

func Test_errorPredicates(t *testing.T) {
	wrap := func(e *APIError) error { return fmt.Errorf("minting: %w", e) }
	locked := wrap(&APIError{StatusCode: 403, Message: "User is locked or disabled"})
	denied := wrap(&APIError{StatusCode: 403, Message: "Access is denied"})
	expired := wrap(&APIError{StatusCode: 401, Message: "Token has expired"})
	notFound := wrap(&APIError{StatusCode: 404, Message: "User with id = 42 not found"})
	checks := []struct {
		name string
		got  bool
		want bool
	}{
		{"locked is user locked", IsUserLocked(locked), true},
		{"locked is forbidden", IsForbidden(locked), true},
		{"locked is not access denied", IsAccessDenied(locked), false},
		{"denied is access denied", IsAccessDenied(denied), true},
		{"expired is token expired", IsTokenExpired(expired), true},
		{"expired is unauthorized", IsUnauthorized(expired), true},
		{"not found", IsNotFound(notFound), true},
		{"403 not transient", IsTransient(denied), false},
		{"503 transient", IsTransient(wrap(&APIError{StatusCode: 503})), true},
		{"500 transient", IsTransient(wrap(&APIError{StatusCode: 500})), true},
		{"429 transient", IsTransient(wrap(&APIError{StatusCode: 429})), true},
		{"400 not transient", IsTransient(wrap(&APIError{StatusCode: 400})), false},
		{"EOF transient", IsTransient(fmt.Errorf("x: %w", io.EOF)), true},
		{"reset transient", IsTransient(fmt.Errorf("x: %w", syscall.ECONNRESET)), true},
		{"deadline transient", IsTransient(fmt.Errorf("x: %w", context.DeadlineExceeded)), true},
		{"deadline timeout", IsTimeout(fmt.Errorf("x: %w", context.DeadlineExceeded)), true},
		{"cancel not transient", IsTransient(fmt.Errorf("x: %w", context.Canceled)), false},
		{"rights error not transient", IsTransient(&RightsError{Field: "actions"}), false},
		{"plain error not unauthorized", IsUnauthorized(errors.New("401")), false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestIsTransient_NamesThatDoNotResolveAreRetried(t *testing.T) {
	for _, err := range []error{
		&net.DNSError{Err: "no such host", Name: "devicehive.invalid", IsNotFound: true},
		&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED},
	} {
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false; both the AWX and the DeviceHive client retry it", err)
		}
	}
}
