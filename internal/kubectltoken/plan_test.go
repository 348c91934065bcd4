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
	w.deviceAccessToken("sensor-reader")

	t.Run("lists the renewals within the window, and not beyond", func(t *testing.T) {
		g := NewWithT(t)
		out := w.mustRun("plan", "--within", "30m")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		g.Expect(lines).To(HaveLen(2), out)
		g.Expect(lines[0]).To(MatchRegexp(`^WHEN\s+TOKEN\s+ACTION\s+WHY$`))
		g.Expect(lines[1]).To(MatchRegexp(`^\S+Z \(in (19|20)m\)\s+deviceaccesstoken/sensor-reader\s+rotate\s+` +
			`9m54s before it expires at \S+ \(renewBeforePercentage 33%\)$`))

		out = w.mustRun("plan", "--within", "2h")
		g.Expect(out).To(MatchRegexp(`(?m)^\S+Z \(in (59|60)m\)\s+personaltoken/ci-runner\s+rotate\s+maxAge 1h reached; then about every 1h$`))
		g.Expect(out).To(MatchRegexp(`(?m)deviceaccesstoken/sensor-reader\s+rotate\s+9m54s before it expires at \S+ ` +
			`\(renewBeforePercentage 33%\); then about every 20m6s$`))

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
		g.Expect(lines[1]).To(MatchRegexp(`^` + pt.Status.PreviousTokens[0].RevokeAt.UTC().Format(time.RFC3339) +
			` \(in (9m\d+s|10m)\)\s+personaltoken/ci-runner\s+revoke token 1\s+the rotation overlap ends and the Secret's consumers have rolled out$`))
		g.Expect(lines[2]).To(MatchRegexp(`\(in (19|20)m\)\s+deviceaccesstoken/sensor-reader\s+rotate\s`))
		g.Expect(lines[3]).To(MatchRegexp(`\(in (59|60)m\)\s+personaltoken/ci-runner\s+rotate\s`))
	})

}
