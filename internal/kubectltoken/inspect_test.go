package kubectltoken_test

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func TestInspectSecret(t *testing.T) {
	w := newWorld(t)
	pt := w.personalToken("ci-runner", time.Hour, time.Minute)
	dat := w.deviceAccessToken("sensor-reader")

	t.Run("an AWX token: id, host, user, scopes and expiry, no value", func(t *testing.T) {
		g := NewWithT(t)
		data := w.secretData("ci-runner-awx")
		out := w.mustRun("inspect", "secret", "ci-runner-awx")
		g.Expect(out).To(MatchRegexp(`(?m)^Owner:\s+personaltoken/ci-runner \(token 1, revision 1\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Token id:\s+1 \(tokenoperator.io/token-id\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Value:\s+the AWX token in CONTROLLER_OAUTH_TOKEN is the one the operator wrote`))
		g.Expect(out).To(MatchRegexp(`(?m)^Host:\s+` + w.awx.URL() + ` \(CONTROLLER_HOST\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^User:\s+ci-bot \(id 1\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Scopes:\s+read, write$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Expires:\s+` + pt.Status.ExpiresAt.UTC().Format(time.RFC3339) + ` \(in 99\dy\)$`))
		g.Expect(out).To(MatchRegexp(fmt.Sprintf(`(?m)^  CONTROLLER_OAUTH_TOKEN\s+%d\s+the AWX token \(hidden\)$`, len(data["CONTROLLER_OAUTH_TOKEN"]))))
		g.Expect(out).To(HaveSuffix("Values are hidden: add --show-values to print them.\n"))
	})

	t.Run("a DeviceHive pair: the decoded claims, no value", func(t *testing.T) {
		g := NewWithT(t)
		w.secretData("sensor-reader-dh")
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(dat), dat)).To(Succeed())
		out := w.mustRun("inspect", "secret", "sensor-reader-dh")
		g.Expect(out).To(MatchRegexp(`(?m)^Owner:\s+deviceaccesstoken/sensor-reader \(pair 1, revision 1\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Access token:\s+claims as DeviceHive reads them \(signature not verified\)\n` +
			`  Type:\s+access\n  User:\s+2\n  Actions:\s+GetDevice, GetDeviceNotification\n  Networks:\s+1, 3\n  Device types:\s+\*\n` +
			`  Expires:\s+` + dat.Status.ExpiresAt.UTC().Format(time.RFC3339) + ` \(in (29|30)m\)\n`))
		g.Expect(out).To(MatchRegexp(`(?m)^Refresh token:\s+claims as DeviceHive reads them \(signature not verified\)\n` +
			`  Type:\s+refresh\n  User:\s+2\n  Actions:\s+GetDevice, GetDeviceNotification\n  Networks:\s+1, 3\n  Device types:\s+\*\n` +
			`  Expires:\s+` + dat.Status.RefreshTokenExpiresAt.UTC().Format(time.RFC3339) + ` \(in (119|120)m\)\n`))
		g.Expect(out).To(MatchRegexp(`(?m)^  accessToken\s+\d+\s+the DeviceHive access token \(hidden\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  accessTokenExpiresAt\s+20\s+when the access token expires$`))
	})

	t.Run("values only with --show-values", func(t *testing.T) {
		g := NewWithT(t)
		data := w.secretData("sensor-reader-dh")
		out := w.mustRun("inspect", "secret", "sensor-reader-dh", "--show-values")
		g.Expect(out).To(MatchRegexp(`(?m)^  accessToken\s+\d+\s+the DeviceHive access token\s+` + string(data["accessToken"]) + `$`))
		g.Expect(out).To(ContainSubstring(string(data["refreshToken"])))
		g.Expect(out).To(MatchRegexp(`(?m)^  accessTokenExpiresAt\s+20\s+when the access token expires\s+` + string(data["accessTokenExpiresAt"]) + `$`))
	})

	t.Run("refuses a Secret the operator does not write", func(t *testing.T) {
		g := NewWithT(t)
		_, err := w.run("inspect", "secret", "ci-bot-login")
		g.Expect(err).To(MatchError(`Secret "ci-bot-login" in namespace "` + w.ns + `" is not one token-operator writes ` +
			`(no PersonalToken or DeviceAccessToken controls it): inspect the Secret a token's spec.secret.name names`))
		// The label alone does not make a Secret the operator's.
		w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "look-alike",
			Labels: map[string]string{tokensv1alpha1.ManagedByLabel: tokensv1alpha1.ManagedByValue}},
			StringData: map[string]string{"token": "not-a-token-of-ours"}})
		_, err = w.run("inspect", "secret", "look-alike")
		g.Expect(err).To(MatchError(ContainSubstring(`Secret "look-alike" in namespace "` + w.ns + `" is not one token-operator writes`)))
		_, err = w.run("inspect", "secret", "missing")
		g.Expect(err).To(MatchError(`no Secret "missing" in namespace "` + w.ns + `": give the name in a token's spec.secret.name, and -n for its namespace`))
	})
}
