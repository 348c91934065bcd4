package kubectltoken_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	. "github.com/onsi/gomega/gstruct"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func TestRotate_WaitReturnsOnceTheSecretHoldsTheNewToken(t *testing.T) {
	w := newWorld(t)
	pt := w.personalToken("ci-runner", time.Hour, time.Minute)
	dat := w.deviceAccessToken("sensor-reader")

	t.Run("a PersonalToken by kind and name", func(t *testing.T) {
		g := NewWithT(t)
		before := w.secretData("ci-runner-awx")["CONTROLLER_OAUTH_TOKEN"]
		out := w.mustRun("rotate", "personaltoken/ci-runner", "--wait")
		// No waiting here: once rotate returns, the Secret holds the new token.
		g.Expect(w.secretData("ci-runner-awx")["CONTROLLER_OAUTH_TOKEN"]).NotTo(Equal(before))
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), pt)).To(Succeed())
		g.Expect(pt.Status.Revision).To(Equal(int64(2)))
		value := pt.Annotations[tokensv1alpha1.RotateAnnotation]
		_, err := time.Parse(time.RFC3339Nano, value)
		g.Expect(err).NotTo(HaveOccurred(), "the annotation is the time of the request")
		g.Expect(out).To(Equal("personaltoken/ci-runner: rotation requested (tokenoperator.io/rotate=" + value + ")\n" +
			"personaltoken/ci-runner: rotated: token 2 (revision 2) is in Secret \"ci-runner-awx\"\n"))
	})

	t.Run("a DeviceAccessToken by its bare name", func(t *testing.T) {
		g := NewWithT(t)
		before := w.secretData("sensor-reader-dh")["accessToken"]
		out := w.mustRun("rotate", "sensor-reader", "--wait")
		g.Expect(w.secretData("sensor-reader-dh")["accessToken"]).NotTo(Equal(before))
		g.Expect(out).To(HaveSuffix("deviceaccesstoken/sensor-reader: rotated: pair 2 (revision 2) is in Secret \"sensor-reader-dh\"\n"))
	})

	t.Run("every token of the namespace with --all", func(t *testing.T) {
		g := NewWithT(t)
		out := w.mustRun("rotate", "--all", "--wait")
		g.Expect(out).To(ContainSubstring("deviceaccesstoken/sensor-reader: rotated: pair 3 (revision 3)"))
		g.Expect(out).To(ContainSubstring("personaltoken/ci-runner: rotated: token 3 (revision 3)"))
	})

	t.Run("without --wait, only asks", func(t *testing.T) {
		g := NewWithT(t)
		out := w.mustRun("rotate", "dat/sensor-reader")
		g.Expect(out).To(HavePrefix("deviceaccesstoken/sensor-reader: rotation requested"))
		g.Expect(strings.Count(out, "\n")).To(Equal(1))
		w.waitReady(dat, 4)
	})

	t.Run("refuses to guess which tokens", func(t *testing.T) {
		g := NewWithT(t)
		_, err := w.run("rotate")
		g.Expect(err).To(MatchError("say which tokens to rotate: name them, or select them with --all or -l SELECTOR"))
		_, err = w.run("rotate", "ci-runner", "--all")
		g.Expect(err).To(MatchError("name tokens or select them with --all or -l, not both"))
		_, err = w.run("rotate", "-l", "team=none")
		g.Expect(err).To(MatchError("No tokens found in " + w.ns + " namespace to rotate: check -n, -A and -l"))
	})
}

func TestRotate_WaitTimesOutWhenNoNewTokenComes(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	pt := w.personalToken("ci-runner", time.Hour, time.Minute)
	before := w.secretData("ci-runner-awx")["CONTROLLER_OAUTH_TOKEN"]
	w.awx.Close() // AWX is down: no new token can be minted

	start := time.Now()
	_, err := w.run("rotate", "ci-runner", "--wait", "--timeout", "3s")
	g.Expect(time.Since(start)).To(BeNumerically(">=", 3*time.Second))
	g.Expect(err).To(MatchError(MatchRegexp(`^timed out after 3s waiting for the new token of personaltoken/ci-runner \(Ready False \(RemoteAPIError\): .+connection refused\): ` +
		"see `kubectl token status personaltoken/ci-runner` and the operator's logs$")))
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pt), pt)).To(Succeed())
	g.Expect(pt.Annotations).To(HaveKey(tokensv1alpha1.RotateAnnotation), "the request stays for the operator to answer")
	g.Expect(pt.Status.Revision).To(Equal(int64(1)))
	g.Expect(pt.Status.PendingMint).To(BeNil(), "a create that never reached AWX leaves nothing to recover")
	g.Expect(w.secretData("ci-runner-awx")["CONTROLLER_OAUTH_TOKEN"]).To(Equal(before))

	// What is asked for and not done yet is due now.
	var plan struct {
		Items []struct{ Token, Action, Why string }
	}
	g.Expect(json.Unmarshal([]byte(w.mustRun("plan", "--within", "1m", "-o", "json")), &plan)).To(Succeed())
	g.Expect(plan.Items).To(HaveExactElements(MatchAllFields(Fields{"Token": Equal("personaltoken/ci-runner"), "Action": Equal("rotate"),
		"Why": Equal("tokenoperator.io/rotate=" + pt.Annotations[tokensv1alpha1.RotateAnnotation] + " asks for it and is not handled yet")})))
}
