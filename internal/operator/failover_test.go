package operator

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestFailover runs the operator binary twice, as two replicas would run, with
// leader election on: the leader is SIGKILLed in the middle of a mint whose
// create AWX commits after the leader's death; the replica that takes over must
// leave exactly one live token, the one in the Secret.
func TestFailover_TheLeaderDiesInTheMiddleOfAMint(t *testing.T) {
	g := NewWithT(t)
	w := newProcessWorld(t)
	const remoteTimeout = 2 * time.Second
	args := []string{"--leader-elect", "--remote-timeout=" + remoteTimeout.String()}
	leader := w.start("the leader", args...)
	// The leader's create reaches AWX, which commits it after the leader is gone.
	w.awx.DelayNext(awxtest.KindCreate, remoteTimeout+remoteTimeout/2)
	pt := w.personalToken("ci-runner", nil)
	g.Eventually(func() int { return w.awx.Calls(awxtest.KindCreate) }).WithTimeout(testenv.Wait).Should(Equal(1), "the leader is minting")
	g.Expect(leader.Process.Signal(syscall.SIGKILL)).To(Succeed())
	_, _ = leader.Process.Wait()

	w.start("the replica", args...)
	// The replica takes the Lease once the dead leader's expires (15 s).
	g.Eventually(func(g Gomega) { w.expectOneLiveTokenHeld(g, pt) }).WithTimeout(2 * testenv.Wait).WithPolling(200 * time.Millisecond).Should(Succeed())
	g.Expect(w.awx.Calls(awxtest.KindCreate)).To(Equal(2), "the late create, and the replica's own")
}

// expectOneLiveTokenHeld: pt has no mint in flight, and its marker is on exactly
// one live token at AWX, its current one, which its Secret holds.
func (w *processWorld) expectOneLiveTokenHeld(g Gomega, pt *tokensv1alpha1.PersonalToken) {
	got := &tokensv1alpha1.PersonalToken{}
	g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(pt), got)).To(Succeed())
	g.Expect(got.Status.PendingMint).To(BeNil())
	g.Expect(got.Status.TokenID).NotTo(BeZero())
	var mine []awxtest.Token
	for _, tok := range w.awx.LiveTokens("ci-bot") {
		if containsMarkerOf(tok.Description, got) {
			mine = append(mine, tok)
		}
	}
	g.Expect(mine).To(HaveLen(1), "exactly one live token of %s", pt.Name)
	g.Expect(mine[0].ID).To(Equal(got.Status.TokenID))
	g.Expect(string(w.secretOf(g, pt).Data["CONTROLLER_OAUTH_TOKEN"])).To(Equal(mine[0].Value), "the Secret of %s holds it", pt.Name)
}

// containsMarkerOf tells whether an AWX description carries pt's marker.
func containsMarkerOf(description string, pt *tokensv1alpha1.PersonalToken) bool {
	return strings.Contains(description, "[token-operator "+pt.Namespace+"/"+pt.Name+" "+string(pt.UID)+" ")
}
