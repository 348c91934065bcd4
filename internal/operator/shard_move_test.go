package operator

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestShards_TokenMovedInTheMiddleOfAMint moves a token from shard blue to shard
// green while blue's create is at AWX. Blue then writes to a token it no longer
// owns, and green recovers a mint it did not start: whether blue's create came
// back in time and its Secret got the token, or blue gave up and AWX committed it
// later, the token ends with exactly one live AWX token, in its Secret, in green.
func TestShards_TokenMovedInTheMiddleOfAMint(t *testing.T) {
	w := newProcessWorld(t)
	const remoteTimeout = 2 * time.Second
	w.startShards(NewWithT(t), func(string) []string { return []string{"--remote-timeout=" + remoteTimeout.String()} })

	for _, tc := range []struct {
		name       string
		createTime time.Duration
		creates    int
	}{
		{name: "answered", createTime: remoteTimeout / 2, creates: 1},
		{name: "given-up", createTime: remoteTimeout + remoteTimeout/2, creates: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			before := w.awx.Calls(awxtest.KindCreate)
			w.awx.DelayNext(awxtest.KindCreate, tc.createTime)
			pt := w.personalToken(tc.name, inShard("blue"))
			g.Eventually(func() int { return w.awx.Calls(awxtest.KindCreate) }).WithTimeout(testenv.Wait).Should(Equal(before+1), "blue is minting")
			g.Eventually(func() error {
				moved := &tokensv1alpha1.PersonalToken{}
				if err := w.c.Get(context.Background(), client.ObjectKeyFromObject(pt), moved); err != nil {
					return err
				}
				moved.Labels[ShardLabel] = "green"
				return w.c.Update(context.Background(), moved)
			}).WithTimeout(testenv.Wait).Should(Succeed())

			g.Eventually(func(g Gomega) {
				w.expectOneLiveTokenHeld(g, pt)
				w.readyStatus(g, pt)
				g.Expect(w.secretOf(g, pt).Labels).To(HaveKeyWithValue(ShardLabel, "green"))
			}).WithTimeout(2 * testenv.Wait).WithPolling(200 * time.Millisecond).Should(Succeed())
			g.Expect(w.awx.Calls(awxtest.KindCreate) - before).To(Equal(tc.creates))
		})
	}
}
