package operator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestShards runs two operator binaries on one control plane, each with its own
// --shard: every token is reconciled by exactly one of them (minted once, in the
// metrics of its shard only), a token neither selects is left alone, the issuer
// is checked by the shard its label names, and a token or an issuer moved to the
// other shard is taken over there, the token without a new mint.
func TestShards(t *testing.T) {
	g := NewWithT(t)
	w := newProcessWorld(t)
	metrics := map[string]string{}
	issuer := w.startShards(g, func(shard string) []string {
		metrics[shard] = freeLoopbackAddr(t)
		return []string{"--metrics-secure=false", "--metrics-bind-address=" + metrics[shard]}
	})
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
	g.Expect(scrapePlain(g, metrics["blue"])).To(ContainSubstring(`operation="probe"`), "blue checks the issuer")
	g.Expect(scrapePlain(g, metrics["green"])).NotTo(ContainSubstring(`operation="probe"`), "green leaves the issuer to blue")
	for _, pt := range tokens {
		g.Expect(w.secretOf(g, pt).Labels).To(HaveKeyWithValue(ShardLabel, pt.Labels[ShardLabel]), "%s's Secret is in its shard", pt.Name)
	}
	g.Consistently(func(g Gomega) {
		got := &tokensv1alpha1.PersonalToken{}
		g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(orphan), got)).To(Succeed())
		g.Expect(got.Status.Conditions).To(BeEmpty())
		g.Expect(got.Finalizers).To(BeEmpty())
	}).WithTimeout(2*time.Second).Should(Succeed(), "a token no shard selects is left alone")

	moved := &tokensv1alpha1.PersonalToken{}
	g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(tokens[0]), moved)).To(Succeed())
	held := moved.Status.TokenID
	moved.Labels[ShardLabel] = "green"
	g.Expect(w.c.Update(context.Background(), moved)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(w.secretOf(g, moved).Labels).To(HaveKeyWithValue(ShardLabel, "green"))
		g.Expect(scrapePlain(g, metrics["green"])).To(ContainSubstring(fmt.Sprintf("name=%q", moved.Name)))
	}).WithTimeout(testenv.Wait).Should(Succeed(), "green takes over the token moved to it, with its Secret")
	w.expectOneLiveTokenHeld(g, moved)
	w.readyStatus(g, moved)
	g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(moved), moved)).To(Succeed())
	g.Expect(moved.Status.TokenID).To(Equal(held), "the token it held stays")
	g.Expect(w.awx.Calls(awxtest.KindCreate)).To(Equal(len(tokens)), "moving a token mints nothing")

	g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(issuer), issuer)).To(Succeed())
	issuer.Labels[ShardLabel] = "green"
	g.Expect(w.c.Update(context.Background(), issuer)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(scrapePlain(g, metrics["green"])).To(ContainSubstring(`operation="probe"`))
	}).WithTimeout(testenv.Wait).Should(Succeed(), "green checks the issuer moved to it at once")
}

// startShards puts the issuer in shard blue, so that blue checks it, and starts
// an operator for each of shards blue and green, with flags(shard) added; it
// returns the issuer as written.
func (w *processWorld) startShards(g Gomega, flags func(shard string) []string) *tokensv1alpha1.TokenIssuer {
	issuer := &tokensv1alpha1.TokenIssuer{}
	g.Expect(w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: "awx"}, issuer)).To(Succeed())
	issuer.Labels = map[string]string{ShardLabel: "blue"}
	g.Expect(w.c.Update(context.Background(), issuer)).To(Succeed())
	for _, shard := range []string{"blue", "green"} {
		w.start("shard "+shard, append([]string{"--leader-elect", "--shard=" + ShardLabel + " in (" + shard + ")"}, flags(shard)...)...)
	}
	return issuer
}

// inShard labels a token for shard.
func inShard(shard string) func(*tokensv1alpha1.PersonalToken) {
	return func(pt *tokensv1alpha1.PersonalToken) { pt.Labels = map[string]string{ShardLabel: shard} }
}

// secretOf reads the Secret of pt.
func (w *processWorld) secretOf(g Gomega, pt *tokensv1alpha1.PersonalToken) *corev1.Secret {
	secret := &corev1.Secret{}
	g.Expect(w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: pt.Spec.Secret.Name}, secret)).To(Succeed())
	return secret
}

// A shard caches the Secrets of its tokens only: they carry the labels its
// selector names, as their tokens do.
func TestShardCache_SelectsSecretsAsTokens(t *testing.T) {
	g := NewWithT(t)
	shard, err := parseShard(ShardLabel + " in (blue), team notin (ops)")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(shardLabels(shard)).To(Equal([]string{ShardLabel, "team"}))
	g.Expect(shardLabels(nil)).To(Equal([]string{ShardLabel}), "ready for a split before there is one")

	secrets := func(shard labels.Selector) labels.Selector {
		for obj, by := range cachedObjects(shard) {
			if _, ok := obj.(*corev1.Secret); ok {
				return by.Label
			}
		}
		t.Fatal("no Secret in the cache's configuration")
		return nil
	}
	owned := labels.Set{tokensv1alpha1.ManagedByLabel: tokensv1alpha1.ManagedByValue}
	with := func(extra labels.Set) labels.Set { return labels.Merge(owned, extra) }
	g.Expect(secrets(shard).Matches(with(labels.Set{ShardLabel: "blue"}))).To(BeTrue())
	g.Expect(secrets(shard).Matches(with(labels.Set{ShardLabel: "green"}))).To(BeFalse())
	g.Expect(secrets(shard).Matches(with(labels.Set{ShardLabel: "blue", "team": "ops"}))).To(BeFalse())
	g.Expect(secrets(shard).Matches(labels.Set{ShardLabel: "blue"})).To(BeFalse(), "not the operator's")
	g.Expect(secrets(nil).Matches(with(labels.Set{ShardLabel: "green"}))).To(BeTrue())
	g.Expect(secrets(nil).Matches(labels.Set{})).To(BeFalse())
	_, err = parseShard("in (blue")
	g.Expect(err).To(MatchError(ContainSubstring("--shard")))
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
