package remote_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokenoperator/token-operator/internal/remote"
)

func TestParseBaseURL(t *testing.T) {
	for _, tc := range []struct {
		name   string
		raw    string
		want   string // the URL as returned, when accepted
		reason string // the refusal, when not
	}{
		{name: "host only", raw: "https://awx.example.com", want: "https://awx.example.com"},
		{name: "trailing slash", raw: "https://awx.example.com/", want: "https://awx.example.com"},
		{name: "path prefix", raw: "https://dh.example.com/auth/rest/", want: "https://dh.example.com/auth/rest"},
		{name: "several slashes", raw: "http://10.0.0.1:8052/awx//", want: "http://10.0.0.1:8052/awx"},
		{name: "escaped path", raw: "https://h.example.com/a%2Fb/", want: "https://h.example.com/a%2Fb"},
		{name: "white space", raw: "  https://awx.example.com \n", want: "https://awx.example.com"},
		{name: "upper-case scheme", raw: "HTTPS://awx.example.com", want: "https://awx.example.com"},
		{name: "empty", raw: "", reason: "is required"},
		{name: "blank", raw: "  ", reason: "is required"},
		{name: "unparsable", raw: "https://admin:hunter2@awx.example.com/%zz", reason: "not a valid URL"},
		{name: "no scheme", raw: "awx.example.com", reason: "scheme must be http or https"},
		{name: "relative", raw: "/auth/rest", reason: "scheme must be http or https"},
		{name: "ftp", raw: "ftp://dh.example.com/auth/rest", reason: "scheme must be http or https"},
		{name: "no host", raw: "https://", reason: "host is missing"},
		{name: "port only", raw: "https://:8443", reason: "host is missing"},
		{name: "opaque", raw: "https:awx.example.com", reason: "host is missing"},
		{name: "credentials", raw: "https://admin:hunter2@awx.example.com", reason: "must not contain credentials"},
		{name: "user only", raw: "https://admin@awx.example.com", reason: "must not contain credentials"},
		{name: "query", raw: "https://awx.example.com/?x=1", reason: "must not have a query or fragment"},
		{name: "bare question mark", raw: "https://dh.example.com/auth/rest?", reason: "must not have a query or fragment"},
		{name: "fragment", raw: "https://awx.example.com/#top", reason: "must not have a query or fragment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := remote.ParseBaseURL(tc.raw)
			if tc.reason == "" {
				if err != nil || u.String() != tc.want {
					t.Fatalf("ParseBaseURL = %v, %v; want %s", u, err, tc.want)
				}
				return
			}
			var fe *remote.FieldError
			if !errors.As(err, &fe) || fe.Field != remote.FieldURL || fe.Reason != tc.reason {
				t.Fatalf("ParseBaseURL = %v, %v; want a FieldError url: %s", u, err, tc.reason)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}
