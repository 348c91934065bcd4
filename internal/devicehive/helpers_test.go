package devicehive_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"

	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

// adminJWT is ADMIN_JWT of devicehive-auth's AuthAbstractResourceTest
// (secret "devicehive", expired on 2019-06-01).
const adminJWT = "eyJhbGciOiJIUzI1NiJ9.eyJwYXlsb2FkIjp7InUiOjEsImEiOlswXSwibiI6WyIqIl0sImR0IjpbIioiXSwiZSI6MTU1OTM0NzIwMDAwMCwidCI6MX19.0i1MaUBtgfDPG4_cvSjEVO11FZy7o_L_6uRCR5NR3v4"

// epoch is the fake "now" of every test.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a test server with an admin, a client user and a client for it.
type env struct {
	srv    *dhtest.Server
	clock  *testingclock.FakeClock
	client *devicehive.Client
	admin  dhtest.User
	user   dhtest.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWithSecret(t, "")
}

// newEnvWithSecret is newEnv with the server's JWT secret ("" for the default).
func newEnvWithSecret(t *testing.T, secret string) *env {
	t.Helper()
	clk := testingclock.NewFakeClock(epoch)
	srv := dhtest.NewServer(t, dhtest.Options{Clock: clk, Secret: secret})
	client, err := devicehive.New(devicehive.Config{URL: srv.URL()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{
		srv:    srv,
		clock:  clk,
		client: client,
		admin:  srv.AddUser(dhtest.User{Login: "dhadmin", Password: "dhadmin_#911", Active: true, Admin: true}),
		user:   srv.AddUser(dhtest.User{Login: "sensor", Password: "sensor-pass", Active: true}),
	}
}

// manageTokenBearer is an access token of the admin holding ManageToken only.
func (e *env) manageTokenBearer() devicehive.Secret {
	return devicehive.Secret(e.srv.MintFor(dhtest.Grant{UserID: e.admin.ID, ActionIDs: []int{devicehive.ManageTokenActionID}}))
}

// segment returns a decoded segment of a JWT: 0 header, 1 claims.
func segment(t *testing.T, token string, i int) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d segments", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return string(raw)
}

// checkCase is one Check against a token and whether it must pass.
type checkCase struct {
	action, network, deviceType string
	allowed                     bool
}

// sensorChecks fit rights {GetDevice, GetDeviceNotification} on networks 1
// and 3, device types "*".
var sensorChecks = []checkCase{
	{"GetDevice", "1", "7", true},
	{"GetDeviceNotification", "3", "1", true},
	{"GetDevice", "2", "7", false},
	{"GetDeviceCommand", "1", "7", false},
	{"CreateDeviceCommand", "1", "7", false},
	{"ManageToken", "1", "7", false},
	{"ManagePlugin", "1", "7", false},
	{"ManageUser", "1", "7", false},
}

func sensorRights(userID int64) devicehive.Rights {
	return devicehive.Rights{
		UserID:        userID,
		Actions:       []string{"GetDevice", "GetDeviceNotification"},
		NetworkIDs:    []string{"1", "3"},
		DeviceTypeIDs: []string{"*"},
	}
}

func runChecks(t *testing.T, srv *dhtest.Server, token devicehive.Secret, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		err := srv.Check(token.Reveal(), c.action, c.network, c.deviceType)
		if c.allowed && err != nil {
			t.Errorf("%s on network %s, device type %s: refused: %v", c.action, c.network, c.deviceType, err)
		}
		if !c.allowed && err == nil {
			t.Errorf("%s on network %s, device type %s: allowed", c.action, c.network, c.deviceType)
		}
	}
}
