package operator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestShards runs two operator binaries on one control plane, each with its own
// --shard: every token is reconciled by exactly one of them (minted once, in the
// metrics of its shard only), and a token neither selects is left alone.
func TestShards(t *testing.T) {
	g := NewWithT(t)
	w := newProcessWorld(t)
	metrics := map[string]string{}
	for _, shard := range []string{"blue", "green"} {
		metrics[shard] = freeLoopbackAddr(t)
		w.start("shard "+shard, "--leader-elect", "--shard="+ShardLabel+" in ("+shard+")",
			"--metrics-secure=false", "--metrics-bind-address="+metrics[shard])
	}
	inShard := func(shard string) func(*tokensv1alpha1.PersonalToken) {
		return func(pt *tokensv1alpha1.PersonalToken) { pt.Labels = map[string]string{ShardLabel: shard} }
	}
	var tokens []*tokensv1alpha1.PersonalToken
	for i := range 3 {
		for _, shard := range []string{"blue", "green"} {
			tokens = append(tokens, w.personalToken(fmt.Sprintf("%s-%d", shard, i), inShard(shard)))
		}
	}
	orphan := w.personalToken("no-shard", inShard("red"))

	for _, pt := range tokens {
		g.Eventually(func(g Gomega) { w.expectOneLiveTokenHeld(g, pt) }).WithTimeout(testenv.Wait).Should(Succeed(), pt.Name)
	}
	g.Expect(w.awx.Calls(awxtest.KindCreate)).To(Equal(len(tokens)), "each token minted once, by one shard")
	for shard, addr := range metrics {
		body := scrapePlain(g, addr)
		for _, pt := range tokens {
			series := fmt.Sprintf(`tokenoperator_token_ready_status{condition="True",issuer_kind="TokenIssuer",issuer_name="awx",kind="PersonalToken",name=%q,namespace=%q} 1`, pt.Name, w.ns)
			if pt.Labels[ShardLabel] == shard {
				g.Expect(body).To(ContainSubstring(series), "shard %s reconciles %s", shard, pt.Name)
			} else {
				g.Expect(body).NotTo(ContainSubstring(fmt.Sprintf("name=%q", pt.Name)), "shard %s leaves %s alone", shard, pt.Name)
			}
		}
	}
	g.Consistently(func(g Gomega) {
		got := &tokensv1alpha1.PersonalToken{}
		g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(orphan), got)).To(Succeed())
		g.Expect(got.Status.Conditions).To(BeEmpty())
		g.Expect(got.Finalizers).To(BeEmpty())
	}).WithTimeout(2*time.Second).Should(Succeed(), "a token no shard selects is left alone")
}

// scrapePlain reads the metrics a --metrics-secure=false operator serves.
func scrapePlain(g Gomega, addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	g.Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	g.Expect(err).NotTo(HaveOccurred())
	return string(body)
}
