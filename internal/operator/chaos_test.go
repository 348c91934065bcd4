package operator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// TestChaos runs the operator binary against an AWX that fails, throttles,
// loses replies and commits creates after the client gave up, and SIGKILLs it
// again and again while it mints and rotates. Once the faults stop and one
// process is left running: every PersonalToken is Ready, and each has exactly
// one live token at AWX, its current one, in its Secret; no other live token of
// the user is left.
func TestChaos_KilledAgainAndAgainWithAFaultyAWX(t *testing.T) {
	g := NewWithT(t)
	w := newProcessWorld(t)
	const remoteTimeout = time.Second
	args := []string{"--leader-elect=false", "--remote-timeout=" + remoteTimeout.String()}
	// A delayed create commits after recovery has stopped waiting for it: the
	// orphan sweep must find it. The first create is surely one of them.
	w.awx.SetChaos(0.3, 5*remoteTimeout)
	w.awx.DelayNext(awxtest.KindCreate, 5*remoteTimeout)
	var tokens []*tokensv1alpha1.PersonalToken
	for i := range 4 {
		tokens = append(tokens, w.personalToken(fmt.Sprintf("chaos-%d", i), func(pt *tokensv1alpha1.PersonalToken) {
			pt.Spec.Rotation = &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Minute}}
		}))
	}

	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		p := w.start("a killed process", args...)
		time.Sleep(time.Duration(1000+rand.IntN(4000)) * time.Millisecond)
		_ = p.Process.Signal(syscall.SIGKILL)
		_, _ = p.Process.Wait()
	}
	w.awx.SetChaos(0, 0)
	w.start("the last process", args...)

	g.Eventually(func(g Gomega) {
		for _, pt := range tokens {
			got := &tokensv1alpha1.PersonalToken{}
			g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(pt), got)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, tokensv1alpha1.ReadyCondition)).To(BeTrue(),
				"%s: %+v", pt.Name, got.Status.Conditions)
			w.expectOneLiveTokenHeld(g, got)
		}
		g.Expect(w.awx.LiveTokens("ci-bot")).To(HaveLen(len(tokens)), "no live token that no PersonalToken holds")
	}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(Succeed())
}
