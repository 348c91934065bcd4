package controllers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
)

// What the operator remembers of a credentials Secret prints without the
// password or token, whatever the verb.
func TestSecretVersions_PrintNoCredentials(t *testing.T) {
	creds := awxCredentials{creds: awx.Credentials{Username: "ci-bot", Password: "pw-d0-not-print", Token: "tok-d0-not-print"}}
	version := readVersion[awxCredentials]{resourceVersion: "42", value: creds}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, printed := range []string{fmt.Sprintf(verb, creds), fmt.Sprintf(verb, version), fmt.Sprintf(verb, []any{version})} {
			if strings.Contains(printed, "d0-not-print") || strings.Contains(printed, fmt.Sprintf("%x", "d0-not-print")) {
				t.Errorf("%s printed a credential: %s", verb, printed)
			}
		}
	}
}
