package metrics

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// BenchmarkScrape10kTokens gathers everything the metrics endpoint serves with
// 10,000 tokens: what each Prometheus scrape costs the operator.
func BenchmarkScrape10kTokens(b *testing.B) {
	tokens := make([]Token, 10000)
	for i := range tokens {
		tokens[i] = Token{Kind: "PersonalToken", Namespace: fmt.Sprintf("team-%d", i%50), Name: fmt.Sprintf("token-%d", i),
			IssuerKind: "ClusterTokenIssuer", IssuerName: "awx", ExpiresAt: time.Unix(2000, 0), RenewalTime: time.Unix(1000, 0),
			Ready: metav1.ConditionTrue}
	}
	SetSource(sourceOf(tokens, nil))
	b.Cleanup(func() { SetSource(sourceOf(nil, nil)) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ctrlmetrics.Registry.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
