package kubectltoken_test

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestPlan(t *testing.T) {
	w := newWorld(t)
	// Renewed after an hour (maxAge); its replaced tokens live 10 minutes more.
	pt := w.personalToken("ci-runner", time.Hour, 10*time.Minute)
	// Access tokens live 30 minutes, renewed when a third is left: after ~20.
	dat := w.deviceAccessToken("sensor-reader")

	t.Run("lists the renewals within the window, and not beyond", func(t *testing.T) {
		g := NewWithT(t)
		out := w.mustRun("plan", "--within", "30m")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		g.Expect(lines).To(HaveLen(2), out)
		g.Expect(lines[0]).To(MatchRegexp(`^WHEN\s+TOKEN\s+ACTION\s+WHY$`))
		g.Expect(lines[1]).To(MatchRegexp(`^` + stamp(dat.Status.RenewalTime) + `\s+deviceaccesstoken/sensor-reader\s+rotate\s+` +
			`\S+ before it expires at ` + dat.Status.ExpiresAt.UTC().Format(time.RFC3339) + ` \(renewBeforePercentage 33%\)$`))

		out = w.mustRun("plan", "--within", "2h")
		g.Expect(out).To(MatchRegexp(`(?m)^` + stamp(pt.Status.RenewalTime) + `\s+personaltoken/ci-runner\s+rotate\s+maxAge 1h reached; then about every \S+$`))
		g.Expect(out).To(MatchRegexp(`(?m)deviceaccesstoken/sensor-reader\s+rotate\s+.+ \(renewBeforePercentage 33%\); then about every \S+$`))

		out = w.mustRun("plan", "--within", "10m")
		g.Expect(out).To(Equal("Nothing rotates or is revoked within 10m.\n"))
	})

	t.Run("lists a replaced token's revocation, and sorts by time", func(t *testing.T) {
		g := NewWithT(t)
		w.mustRun("rotate", "personaltoken/ci-runner", "--wait")
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), pt)).To(Succeed())
		out := w.mustRun("plan", "--within", "2h")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		g.Expect(lines).To(HaveLen(4), out)
		g.Expect(lines[1]).To(MatchRegexp(`^` + stamp(&pt.Status.PreviousTokens[0].RevokeAt) +
			`\s+personaltoken/ci-runner\s+revoke token 1\s+its rotation overlap ends, and the Secret's consumers have rolled out$`))
		g.Expect(lines[2]).To(MatchRegexp(`^` + stamp(dat.Status.RenewalTime) + `\s+deviceaccesstoken/sensor-reader\s+rotate\s`))
		g.Expect(lines[3]).To(MatchRegexp(`^` + stamp(pt.Status.RenewalTime) + `\s+personaltoken/ci-runner\s+rotate\s`))
	})
}
