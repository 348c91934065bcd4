package awx_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

const (
	awxScopeText = "Must be a simple space-separated string with allowed scopes ['read', 'write']."
	nullText     = "This field may not be null."
	notString    = "Not a valid string."
)

// scopeCases are the scope values of docs/awx-api.md, "scope", and their outcome
// per flavour: the stored scope, or the field errors.
var scopeCases = []struct {
	name string
	// json is the scope member of the body; empty means no scope member.
	json string
	// scopes is how the client sends the same value; nil when it cannot.
	scopes        []string
	stored        string
	controllerErr []string
	gatewayErr    []string
}{
	{name: "omitted", json: "", stored: "write"},
	{name: "read", json: `"read"`, scopes: []string{"read"}, stored: "read"},
	{name: "write", json: `"write"`, scopes: []string{"write"}, stored: "write"},
	{name: "read write", json: `"read write"`, scopes: []string{"read", "write"}, stored: "read write"},
	{name: "write read", json: `"write read"`, scopes: []string{"write", "read"}, stored: "write read"},
	{name: "trimmed", json: `" read "`, stored: "read"},
	{name: "empty", json: `""`, scopes: []string{""},
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"This field may not be blank."}},
	{name: "blank", json: `"   "`,
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"This field may not be blank."}},
	{name: "repeat", json: `"read read"`, scopes: []string{"read", "read"},
		controllerErr: []string{awxScopeText}, gatewayErr: []string{awxScopeText}},
	{name: "unknown word", json: `"read rainbow"`, scopes: []string{"read", "rainbow"},
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"Invalid scope: rainbow. Must be one of: read, write"}},
	{name: "number", json: `5`,
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"Invalid scope: 5. Must be one of: read, write"}},
	{name: "float", json: `5.0`,
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"Invalid scope: 5.0. Must be one of: read, write"}},
	{name: "null", json: `null`, controllerErr: []string{nullText}, gatewayErr: []string{nullText}},
	{name: "boolean", json: `true`, controllerErr: []string{notString}, gatewayErr: []string{notString}},
	{name: "list", json: `["read"]`, controllerErr: []string{notString}, gatewayErr: []string{notString}},
	{name: "object", json: `{"read": true}`, controllerErr: []string{notString}, gatewayErr: []string{notString}},
	// AWX splits on any white space; the gateway's model validator on single spaces.
	{name: "double space", json: `"read  write"`, scopes: []string{"read", "", "write"}, stored: "read  write",
		gatewayErr: []string{"Invalid scope: . Must be one of: read, write"}},
	{name: "tab", json: `"read\twrite"`, stored: "read\twrite",
		gatewayErr: []string{"Invalid scope: read\twrite. Must be one of: read, write"}},
	{name: "too long for the gateway", json: `"read write read write read write read"`,
		controllerErr: []string{awxScopeText}, gatewayErr: []string{"Ensure this field has no more than 32 characters."}},
}

func TestScopeValidation_Create(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			createURL := e.srv.URL() + f.prefix + "tokens/"
			if f.server == awxtest.FlavorController {
				createURL = e.srv.URL() + f.prefix + fmt.Sprintf("users/%d/personal_tokens/", e.alice.ID)
			}
			for _, tc := range scopeCases {
				t.Run(tc.name, func(t *testing.T) {
					want := tc.controllerErr
					if f.server == awxtest.FlavorGateway {
						want = tc.gatewayErr
					}
					body := `{"description": "scope case"}`
					if tc.json != "" {
						body = `{"description": "scope case", "scope": ` + tc.json + `}`
					}
					status, reply := raw(t, http.MethodPost, createURL, e.alice, body)
					checkScopeReply(t, status, http.StatusCreated, reply, tc.stored, want)

					if tc.scopes == nil {
						return
					}
					tok, err := c.CreateToken(ctx(t), awx.CreateRequest{Description: "scope case", Scopes: tc.scopes})
					checkScopeError(t, err, want)
					if want == nil && strings.Join(tok.Scopes, " ") != strings.Join(strings.Fields(tc.stored), " ") {
						t.Errorf("client scopes %q, want %q", tok.Scopes, tc.stored)
					}
				})
			}
		})
	}
}

func TestScopeValidation_Update(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			c := newClient(t, e.srv.URL(), f.api, login(e.alice))
			for _, tc := range scopeCases {
				t.Run(tc.name, func(t *testing.T) {
					tok := mustCreate(t, c, awx.CreateRequest{Description: "to update", Scopes: []string{"write"}})
					want := tc.controllerErr
					if f.server == awxtest.FlavorGateway {
						want = tc.gatewayErr
					}
					stored := tc.stored
					if tc.json == "" {
						stored = "write" // unchanged
					}
					body := `{}`
					if tc.json != "" {
						body = `{"scope": ` + tc.json + `}`
					}
					url := e.srv.URL() + f.prefix + fmt.Sprintf("tokens/%d/", tok.ID)
					for _, method := range []string{http.MethodPatch, http.MethodPut} {
						status, reply := raw(t, method, url, e.alice, body)
						checkScopeReply(t, status, http.StatusOK, reply, stored, want)
					}
					if tc.scopes == nil {
						return
					}
					got, err := c.UpdateToken(ctx(t), tok.ID, awx.Update{Scopes: tc.scopes})
					checkScopeError(t, err, want)
					if want == nil && got.ID != tok.ID {
						t.Errorf("update made a new token %d", got.ID)
					}
				})
			}
		})
	}
}

func checkScopeReply(t *testing.T, status, okStatus int, reply map[string]any, stored string, want []string) {
	t.Helper()
	if want == nil {
		if status != okStatus || reply["scope"] != stored {
			t.Errorf("got %d scope=%q, want %d scope=%q (%v)", status, reply["scope"], okStatus, stored, reply)
		}
		return
	}
	if status != http.StatusBadRequest {
		t.Fatalf("got %d %v, want 400", status, reply)
	}
	got := fmt.Sprint(reply["scope"])
	if got != fmt.Sprint(want) || len(reply) != 1 {
		t.Errorf("field errors %v, want scope: %v", reply, want)
	}
}

func checkScopeError(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("client: %v", err)
		}
		return
	}
	var apiErr *awx.APIError
	if !awx.IsBadRequest(err) || !errors.As(err, &apiErr) || !slices.Equal(apiErr.FieldErrors["scope"], want) {
		t.Errorf("client error %v, want scope: %v", err, want)
		return
	}
	if !strings.Contains(err.Error(), ": 400: scope: "+strings.Join(want, " ")) {
		t.Errorf("error text %q", err)
	}
}

func TestAPIError_TextOfAScopeError(t *testing.T) {
	e := newEnv(t, awxtest.Options{Flavor: awxtest.FlavorController})
	c := newClient(t, e.srv.URL(), awx.APIController, login(e.alice))
	_, err := c.CreateToken(ctx(t), awx.CreateRequest{Scopes: []string{"read", "rainbow"}})
	want := "awx: POST /api/v2/users/1/personal_tokens/: 400: scope: " + awxScopeText
	if err == nil || err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}
