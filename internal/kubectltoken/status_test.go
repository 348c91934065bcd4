package kubectltoken_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func TestStatus(t *testing.T) {
	w := newWorld(t)
	pt := w.personalToken("ci-runner", time.Hour, time.Hour)
	dat := w.deviceAccessToken("sensor-reader")
	// A rotation leaves token 1 awaiting revocation for the hour of overlap.
	w.mustRun("rotate", "personaltoken/ci-runner", "--wait")

	t.Run("lists both kinds with issuer, Ready, expiry, renewal, revocations and events", func(t *testing.T) {
		g := NewWithT(t)
		out := w.mustRun("status")
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), pt)).To(Succeed())
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(dat), dat)).To(Succeed())
		lines := strings.Split(strings.TrimSpace(out), "\n")
		g.Expect(lines).To(HaveLen(3), out)
		g.Expect(strings.Fields(lines[0])).To(HaveExactElements("NAME", "ISSUER", "READY", "SECRET", "EXPIRES", "RENEWS",
			"AWAITING", "REVOCATION", "CONSUMERS", "LAST", "EVENT"))
		g.Expect(strings.Fields(lines[1])).To(HaveExactElements("deviceaccesstoken/sensor-reader", "TokenIssuer/dh", "True",
			"sensor-reader-dh", "in", until(dat.Status.ExpiresAt.Time), "in", until(dat.Status.RenewalTime.Time), "-", "<none>",
			"Issued", MatchRegexp(`^\d+s$`), "ago"))
		g.Expect(strings.Fields(lines[2])).To(HaveExactElements("personaltoken/ci-runner", "TokenIssuer/awx", "True",
			"ci-runner-awx", "in", MatchRegexp(`^99\dy$`), "in", until(pt.Status.RenewalTime.Time), "1", "<none>",
			"Rotated", MatchRegexp(`^\d+s$`), "ago"))
	})

	t.Run("with -A names each token's namespace", func(t *testing.T) {
		out := w.mustRun("status", "-A")
		NewWithT(t).Expect(out).To(MatchRegexp(`(?m)^NAMESPACE\s+NAME\s+ISSUER`))
		NewWithT(t).Expect(out).To(MatchRegexp(`(?m)^` + w.ns + `\s+personaltoken/ci-runner\s+TokenIssuer/awx\s+True`))
	})

	t.Run("describes a token: the previous token awaiting revocation, conditions and events", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), pt)).To(Succeed())
		prev := pt.Status.PreviousTokens
		g.Expect(prev).To(HaveLen(1))
		out := w.mustRun("status", "personaltoken/ci-runner")
		g.Expect(out).To(MatchRegexp(`(?m)^Issuer:\s+TokenIssuer/awx \(Ready: AWX serves the Controller token API\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Ready:\s+True$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Current:\s+token 2 \(revision 2\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Expires:\s+` + pt.Status.ExpiresAt.UTC().Format(time.RFC3339) + ` \(in 99\dy\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Renews:\s+` + stamp(pt.Status.RenewalTime) + `$`))
		g.Expect(out).To(ContainSubstring("Previous tokens awaiting revocation:\n"))
		g.Expect(out).To(MatchRegexp(`(?m)^  1\s+` + stamp(&prev[0].RevokeAt) + `\s+` + stamp(prev[0].RevokeBy) + `\s+<none>$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  Ready\s+True\s+`))
		g.Expect(out).To(MatchRegexp(`(?m)^  \d+s\s+Normal\s+Rotated\s+token 2 replaced token 1 in Secret "ci-runner-awx" \(ManuallyTriggered\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^  \d+s\s+Normal\s+Issued\s+`))
	})

	t.Run("describes a DeviceAccessToken found by its bare name", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(dat), dat)).To(Succeed())
		out := w.mustRun("status", "sensor-reader")
		g.Expect(out).To(MatchRegexp(`(?m)^Kind:\s+DeviceAccessToken$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Current:\s+pair 1 \(revision 1\)$`))
		g.Expect(out).To(MatchRegexp(`(?m)^Refresh expires:\s+` + stamp(dat.Status.RefreshTokenExpiresAt) + `$`))
		g.Expect(out).To(ContainSubstring("DeviceHive cannot revoke a pair"))
	})

	t.Run("prints the report as json", func(t *testing.T) {
		g := NewWithT(t)
		var got struct {
			Items []struct {
				Kind, Name, Ready string
				Revision          int64
				PreviousTokens    []tokensv1alpha1.PreviousToken
				Events            []struct{ Reason string }
			}
		}
		g.Expect(json.Unmarshal([]byte(w.mustRun("status", "-o", "json")), &got)).To(Succeed())
		g.Expect(got.Items).To(HaveLen(2))
		g.Expect(got.Items[1].Kind).To(Equal("PersonalToken"))
		g.Expect(got.Items[1].Ready).To(Equal("True"))
		g.Expect(got.Items[1].Revision).To(Equal(int64(2)))
		g.Expect(got.Items[1].PreviousTokens).To(HaveLen(1))
		g.Expect(got.Items[1].Events).To(HaveLen(1), "the table's report keeps the last event")
		g.Expect(got.Items[1].Events[0].Reason).To(Equal("Rotated"))
	})

	t.Run("asks which kind a bare name means when both have it", func(t *testing.T) {
		w.personalToken("shared", time.Hour, time.Minute)
		w.deviceAccessToken("shared")
		_, err := w.run("status", "shared")
		NewWithT(t).Expect(err).To(MatchError(`both a PersonalToken and a DeviceAccessToken are named "shared" in namespace "` + w.ns +
			`": say which with personaltoken/shared or deviceaccesstoken/shared`))
		NewWithT(t).Expect(w.mustRun("status", "dat/shared")).To(MatchRegexp(`(?m)^Kind:\s+DeviceAccessToken$`))
	})

	t.Run("says what is wrong with a name", func(t *testing.T) {
		_, err := w.run("status", "nothing")
		NewWithT(t).Expect(err).To(MatchError(`no PersonalToken or DeviceAccessToken named "nothing" in namespace "` + w.ns +
			"\": list the tokens with `kubectl token status`"))
		_, err = w.run("status", "secret/ci-runner")
		NewWithT(t).Expect(err).To(MatchError(`"secret" is not a token kind: name a token personaltoken/NAME or deviceaccesstoken/NAME`))
	})
}
