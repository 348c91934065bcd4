package devicehive

import (
	"strings"
	"testing"
	"time"
)

func Test_DecodeUnverified(t *testing.T) {
	// The conformance vector of docs/devicehive-api.md, "Conformance vector" (ADMIN_JWT of the server's tests).
	const conformance = "eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjp7InUiOjEsImEiOlswXSwibiI6WyIqIl0sImR0IjpbIioiXSwiZSI6MTU1OTM0NzIwMDAwMCwidCI6MX19.0i1MaUBtgfDPG4_cvSjEVO11FZy7o_L_6uRCR5NR3v4"
	c, err := DecodeUnverified(conformance)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != 1 || len(c.ActionIDs) != 1 || c.ActionIDs[0] != 0 || c.NetworkIDs[0] != "*" || c.DeviceTypeIDs[0] != "*" ||
		c.Type != AccessTokenType || !c.ExpiresAt.Equal(time.UnixMilli(1559347200000)) {
		t.Fatalf("decoded %+v", c)
	}
	for _, bad := range []string{"", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzZWNyZXQiOiJ4In0.sig", "a.%%%.c",
		"eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjp7InUiOjF9fQ.sig"} {
		_, err := DecodeUnverified(bad)
		if err == nil {
			t.Errorf("%q: want an error", bad)
			continue
		}
		if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}
