package awx_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// verbs are the fmt verbs a careless log line or error might use.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10v", "%-40s"}

func TestSecret_Redaction(t *testing.T) {
	const value = "AbCdEfGhIjKlMnOpQrStUvWxYz0123"
	s := awx.Secret(value)
	for _, verb := range verbs {
		got := fmt.Sprintf(verb, s)
		if strings.Contains(got, value) || !strings.Contains(got, "[redacted]") {
			t.Errorf("%s: %q", verb, got)
		}
	}
	if got := fmt.Sprintf("%q", s); got != `"[redacted]"` {
		t.Errorf("%%q = %s", got)
	}
	if b, err := json.Marshal(map[string]any{"v": s}); err != nil || string(b) != `{"v":"[redacted]"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("minted", "token", s)
	if strings.Contains(buf.String(), value) {
		t.Errorf("slog: %s", buf.String())
	}
	if s.Reveal() != value {
		t.Error("Reveal lost the value")
	}
	var decoded struct{ Token awx.Secret }
	if err := json.Unmarshal([]byte(`{"Token": "`+value+`"}`), &decoded); err != nil || decoded.Token.Reveal() != value {
		t.Errorf("decoding into a Secret: %v", err)
	}
}

// TestNoTokenValueInOutput runs every call, failing ones included, with
// token credentials and formats everything that comes back.
func TestNoTokenValueInOutput(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			seed := mustCreate(t, newClient(t, e.srv.URL(), f.api, login(e.alice)), awx.CreateRequest{Description: "seed", Scopes: write})
			c := newClient(t, e.srv.URL(), f.api, bearer(seed.Value))
			values := []string{seed.Value.Reveal()}
			var out []any
			keep := func(v any, err error) {
				out = append(out, v, err)
				if ct, ok := v.(awx.CreatedToken); ok && ct.Value != "" {
					values = append(values, ct.Value.Reveal())
				}
			}

			keep(c.API(ctx(t)))
			keep(c.Me(ctx(t)))
			created, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "leak test", Scopes: []string{"read", "write"}})
			keep(created, err)
			keep(c.CreateToken(ctx(t), awx.CreateRequest{Scopes: []string{"rainbow"}}))
			keep(c.GetToken(ctx(t), created.ID))
			desc := "renamed"
			keep(c.UpdateToken(ctx(t), created.ID, awx.Update{Description: &desc}))
			keep(c.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID}))
			e.srv.FailNext(1)
			keep(c.GetToken(ctx(t), created.ID))
			e.srv.LoseNextReply(awxtest.KindCreate)
			keep(c.CreateToken(ctx(t), awx.CreateRequest{Description: "lost", Scopes: write}))
			out = append(out, c.DeleteToken(ctx(t), created.ID), c.DeleteToken(ctx(t), created.ID))
			keep(newClient(t, e.srv.URL(), f.api, bearer(created.Value)).Me(ctx(t)))
			out = append(out, c, bearer(seed.Value), created.Value)

			for _, v := range out {
				for _, verb := range verbs {
					text := fmt.Sprintf(verb, v)
					for _, value := range values {
						if strings.Contains(text, value) || strings.Contains(strings.ToLower(text), hex.EncodeToString([]byte(value))) {
							t.Fatalf("%s of %T shows a token value: %s", verb, v, text)
						}
					}
				}
				if b, err := json.Marshal(v); err == nil {
					for _, value := range values {
						if strings.Contains(string(b), value) {
							t.Fatalf("JSON of %T shows a token value", v)
						}
					}
				}
			}
			if len(values) != 2 {
				t.Errorf("expected the seed and one created value, got %d", len(values))
			}
		})
	}
}

func TestNew_ConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    awx.Config
		reason string
	}{
		{"empty", awx.Config{}, "url: is required"},
		{"no scheme", awx.Config{URL: "awx.example.com"}, "url: scheme must be http or https"},
		{"ftp", awx.Config{URL: "ftp://awx.example.com"}, "url: scheme must be http or https"},
		{"no host", awx.Config{URL: "https://"}, "url: host is missing"},
		{"credentials in URL", awx.Config{URL: "https://admin:hunter2@awx.example.com"}, "url: must not contain credentials"},
		{"unparsable", awx.Config{URL: "https://admin:hunter2@awx.example.com/%zz"}, "url: not a valid URL"},
		{"query", awx.Config{URL: "https://awx.example.com/?x=1"}, "url: must not have a query or fragment"},
		{"api", awx.Config{URL: "https://awx.example.com", API: "Tower"}, `api: must be Auto, Controller or Gateway, not "Tower"`},
		{"timeout", awx.Config{URL: "https://awx.example.com", Timeout: -1}, "timeout: must not be negative"},
		{"ca bundle", awx.Config{URL: "https://awx.example.com", CABundle: []byte("not pem")}, "caBundle: no PEM certificate found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := awx.New(tc.cfg, awx.Credentials{})
			var cfgErr *awx.ConfigError
			if !errors.As(err, &cfgErr) || err.Error() != "awx: invalid config: "+tc.reason {
				t.Errorf("err = %v, want %q", err, tc.reason)
			}
			if strings.Contains(fmt.Sprint(err), "hunter2") {
				t.Error("password in the error")
			}
		})
	}
	for _, ok := range []string{"https://awx.example.com", "https://awx.example.com/", "http://10.0.0.1:8052/awx/"} {
		if _, err := awx.New(awx.Config{URL: ok}, awx.Credentials{}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestCredentials_JSONAndSlogHideThePassword(t *testing.T) {
	creds := awx.Credentials{Username: "alice", Password: "hunter2pw", Token: "tok3nvalue"}
	data, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "c", creds)
	for _, out := range []string{string(data), buf.String()} {
		if strings.Contains(out, "hunter2pw") || strings.Contains(out, "tok3nvalue") {
			t.Errorf("credentials shown: %s", out)
		}
		if !strings.Contains(out, "alice") {
			t.Errorf("username missing: %s", out)
		}
	}
}
