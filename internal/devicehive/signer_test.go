package devicehive_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

func TestSigner_Parse_serverConformanceVector(t *testing.T) {
	s, err := devicehive.NewSigner("devicehive")
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	c, err := s.Parse(adminJWT)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := devicehive.Claims{
		UserID: 1, ActionIDs: []int{0}, NetworkIDs: []string{"*"}, DeviceTypeIDs: []string{"*"},
		ExpiresAt: time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC), Type: devicehive.AccessTokenType,
	}
	if c.UserID != want.UserID || !slices.Equal(c.ActionIDs, want.ActionIDs) || !slices.Equal(c.NetworkIDs, want.NetworkIDs) ||
		!slices.Equal(c.DeviceTypeIDs, want.DeviceTypeIDs) || !c.ExpiresAt.Equal(want.ExpiresAt) || c.Type != want.Type {
		t.Fatalf("claims = %+v, want %+v", c, want)
	}

	other, _ := devicehive.NewSigner("secret")
	if _, err := other.Parse(adminJWT); !errors.Is(err, devicehive.ErrInvalidToken) {
		t.Fatalf("Parse with another key = %v, want ErrInvalidToken", err)
	}
}

func TestServer_Check_serverConformanceVector(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	srv := dhtest.NewServer(t, dhtest.Options{Clock: clk})
	srv.AddUser(dhtest.User{Login: "dhadmin", Password: "x", Active: true, Admin: true})
	if err := srv.Check(adminJWT, "ManageUser", "5", "5"); err == nil {
		t.Fatal("expired conformance token accepted")
	}
	// Before its expiry the same token is an admin's "*" token.
	clk.SetTime(time.Date(2019, 5, 1, 0, 0, 0, 0, time.UTC))
	if err := srv.Check(adminJWT, "ManageUser", "5", "5"); err != nil {
		t.Fatalf("conformance token refused before its expiry: %v", err)
	}
}

func TestSigner_Mint(t *testing.T) {
	e := newEnv(t)
	s, err := devicehive.NewSigner("devicehive")
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	accessAt := epoch.Add(time.Hour + 1234567*time.Nanosecond)
	refreshAt := epoch.Add(7 * 24 * time.Hour)
	pair, err := s.Mint(sensorRights(e.user.ID), accessAt, refreshAt)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	if !pair.AccessExpiresAt.Equal(accessAt.Truncate(time.Millisecond)) || !pair.RefreshExpiresAt.Equal(refreshAt) {
		t.Fatalf("expiries = %v, %v", pair.AccessExpiresAt, pair.RefreshExpiresAt)
	}

	t.Run("wire shape is the server's", func(t *testing.T) {
		if h := segment(t, pair.AccessToken.Reveal(), 0); h != `{"alg":"HS256"}` {
			t.Fatalf("header = %s", h)
		}
		want := fmt.Sprintf(`{"payload":{"a":[3,4],"e":%d,"t":1,"u":%d,"n":["1","3"],"dt":["*"]}}`, accessAt.UnixMilli(), e.user.ID)
		if got := segment(t, pair.AccessToken.Reveal(), 1); got != want {
			t.Fatalf("claims = %s, want %s", got, want)
		}
		want = fmt.Sprintf(`{"payload":{"a":[3,4],"e":%d,"t":0,"u":%d,"n":["1","3"],"dt":["*"]}}`, refreshAt.UnixMilli(), e.user.ID)
		if got := segment(t, pair.RefreshToken.Reveal(), 1); got != want {
			t.Fatalf("refresh claims = %s, want %s", got, want)
		}
	})
	t.Run("accepted by the server for exactly the requested rights", func(t *testing.T) {
		runChecks(t, e.srv, pair.AccessToken, sensorChecks)
		if err := e.srv.Check(pair.RefreshToken.Reveal(), "GetDevice", "1", "1"); err == nil {
			t.Fatal("refresh token accepted as an access token")
		}
	})
	t.Run("refresh token works at /token/refresh", func(t *testing.T) {
		access, exp, err := e.client.Refresh(t.Context(), pair.RefreshToken)
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if !exp.Equal(epoch.Add(dhtest.AccessTokenMaxAge)) {
			t.Fatalf("refreshed expiry = %v", exp)
		}
		runChecks(t, e.srv, access, sensorChecks)
	})
	t.Run("reads back", func(t *testing.T) {
		c, err := s.Parse(pair.RefreshToken.Reveal())
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if c.Type != devicehive.RefreshTokenType || c.UserID != e.user.ID || !slices.Equal(c.ActionIDs, []int{3, 4}) || !c.ExpiresAt.Equal(refreshAt) {
			t.Fatalf("claims = %+v", c)
		}
	})
	t.Run("invalid rights mint nothing", func(t *testing.T) {
		r := sensorRights(e.user.ID)
		r.Actions = nil
		_, err := s.Mint(r, accessAt, refreshAt)
		var re *devicehive.RightsError
		if !errors.As(err, &re) || re.Field != "actions" {
			t.Fatalf("Mint = %v, want a *RightsError on actions", err)
		}
	})
}
