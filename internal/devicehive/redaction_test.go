package devicehive_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

// TestRedaction formats every value and error the package hands out with
// every common verb and asserts that no token, password, secret or key shows.
func TestRedaction(t *testing.T) {
	const jwtSecret = "c2VydmVyIGp3dCBzZWNyZXQ"
	e := newEnvWithSecret(t, jwtSecret)
	key, _ := devicehive.DeriveKey(jwtSecret)
	signer, _ := devicehive.NewSigner(jwtSecret)
	at := epoch.Add(time.Hour)

	login, err := e.client.Login(t.Context(), e.admin.Login, devicehive.Secret(e.admin.Password))
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	created, err := e.client.Create(t.Context(), login.AccessToken, sensorRights(e.user.ID), at, at)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	minted, _ := signer.Mint(sensorRights(e.user.ID), at, at)
	refreshed, _, _ := e.client.Refresh(t.Context(), created.RefreshToken)
	other, _ := devicehive.NewSigner("secret")
	foreign, _ := other.Mint(sensorRights(e.admin.ID), at, at)

	// A server that echoes what it was sent, token included, in its errors.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = fmt.Fprintf(w, "<html><body>refused %s for %v</body></html>", r.Header.Get("Authorization"), body)
	}))
	defer echo.Close()
	echoClient, _ := devicehive.New(devicehive.Config{URL: echo.URL})

	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	collect(e.client.Login(t.Context(), e.admin.Login, "wrong-password-value"))
	collect(echoClient.Login(t.Context(), "someone", "echoed-password-value"))
	collect(echoClient.Create(t.Context(), created.AccessToken, sensorRights(2), at, at))
	_, _, refreshErr := echoClient.Refresh(t.Context(), created.RefreshToken)
	errs = append(errs, refreshErr)
	collect(e.client.Create(t.Context(), foreign.AccessToken, sensorRights(e.user.ID), at, at))
	collect(e.client.Create(t.Context(), created.AccessToken, sensorRights(e.user.ID), at, at))
	_, _, refreshErr = e.client.Refresh(t.Context(), created.AccessToken)
	errs = append(errs, refreshErr)
	collect(signer.Parse(foreign.AccessToken.Reveal()))
	collect(signer.Parse(created.AccessToken.Reveal() + "x"))
	collect(signer.Parse(strings.Replace(created.AccessToken.Reveal(), ".", "!.", 1)))
	collect(devicehive.NewSigner("AAA=A=="))
	collect(signer.Mint(devicehive.Rights{UserID: 1, Actions: []string{"*"}}, at, at))
	e.srv.FailNext(1)
	collect(e.client.Create(t.Context(), created.AccessToken, sensorRights(e.user.ID), at, at))
	e.srv.LoseNextReply(dhtest.KindCreate)
	collect(e.client.Create(t.Context(), created.AccessToken, sensorRights(e.user.ID), at, at))
	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d produced no error", i)
		}
	}

	values := []any{login, created, minted, &minted, refreshed, created.AccessToken, signer, *signer, e.client, *e.client}
	for _, err := range errs {
		values = append(values, err)
	}
	forbidden := []string{
		jwtSecret, string(key), hex.EncodeToString(key), fmt.Sprint(key), fmt.Sprintf("%x", key),
		e.admin.Password, "wrong-password-value", "echoed-password-value",
	}
	for _, p := range []devicehive.TokenPair{login, created, minted, foreign} {
		forbidden = append(forbidden, p.AccessToken.Reveal(), p.RefreshToken.Reveal())
	}
	forbidden = append(forbidden, refreshed.Reveal())
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			if js, err := json.Marshal(v); err == nil {
				out += string(js)
			}
			for _, f := range forbidden {
				if strings.Contains(out, f) {
					t.Errorf("%s of %T shows a secret value: %s", verb, v, out)
				}
			}
			// Any JWT-shaped text is a token, whatever its key.
			if strings.Contains(out, "eyJhbGciOiJIUzI1NiJ9.") {
				t.Errorf("%s of %T shows a token: %s", verb, v, out)
			}
		}
	}
	if got := fmt.Sprintf("%v|%s|%q|%#v", created.AccessToken, created.AccessToken, created.AccessToken, created.AccessToken); got != `[redacted]|[redacted]|"[redacted]"|[redacted]` {
		t.Errorf("Secret formats as %s", got)
	}
	if js, _ := json.Marshal(created.AccessToken); string(js) != `"[redacted]"` {
		t.Errorf("Secret marshals as %s", js)
	}
}
