package metrics

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// sourceOf is a Source that lists tokens and issuers as given.
func sourceOf(tokens []Token, issuers []Issuer) Source {
	return func(context.Context) ([]Token, []Issuer, error) { return tokens, issuers, nil }
}

func TestFamilies(t *testing.T) {
	SetSource(sourceOf([]Token{{Kind: "PersonalToken", Namespace: "ns", Name: "families", IssuerKind: "TokenIssuer", IssuerName: "awx",
		ExpiresAt: time.Unix(2000, 0), RenewalTime: time.Unix(1000, 0), PreviousPending: 1, RevocationDue: time.Unix(500, 0)}},
		[]Issuer{{Kind: "TokenIssuer", Namespace: "ns", Name: "awx", Ready: metav1.ConditionTrue}}))
	t.Cleanup(func() { SetSource(sourceOf(nil, nil)) })
	Minted("PersonalToken", "DoesNotExist")
	Revocation("PersonalToken", RevocationRevoked)
	OrphanRevoked()
	ConsumersRestarted(1)
	RemoteRequest(SystemAWX, "me", 200, time.Millisecond)

	var got []string
	for name := range gather(t) {
		if strings.HasPrefix(name, namespace+"_") {
			got = append(got, name)
		}
	}
	raw, err := os.ReadFile("testdata/families.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			want = append(want, line)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("registered families differ from testdata/families.txt (the names users' alerts rely on):\n got %v\nwant %v", got, want)
	}
}

// The per-token series are those of the tokens the source lists now: a token
// no longer listed has none left, and a token without an expiry or anything to
// revoke has no such series.
func TestTokenSeries(t *testing.T) {
	t.Cleanup(func() { SetSource(sourceOf(nil, nil)) })
	tok := Token{Kind: "DeviceAccessToken", Namespace: "ns", Name: "series", IssuerKind: "ClusterTokenIssuer", IssuerName: "dh",
		ExpiresAt: time.Unix(2000, 500_000_000), RenewalTime: time.Unix(1000, 0), Ready: metav1.ConditionFalse}
	SetSource(sourceOf([]Token{tok, {Kind: "PersonalToken", Namespace: "ns", Name: "no-status"}}, nil))
	families := gather(t)

	if got := value(families, "tokenoperator_token_expiration_timestamp_seconds", "series", ""); got != 2000.5 {
		t.Errorf("expiration = %v, want 2000.5", got)
	}
	for status, want := range map[string]float64{"True": 0, "False": 1, "Unknown": 0} {
		if got := value(families, "tokenoperator_token_ready_status", "series", status); got != want {
			t.Errorf("ready_status{condition=%q} = %v, want %v", status, got, want)
		}
	}
	if got := value(families, "tokenoperator_token_ready_status", "no-status", "Unknown"); got != 1 {
		t.Errorf("a token without a Ready condition reads Unknown, got %v", got)
	}
	for _, name := range []string{"tokenoperator_token_expiration_timestamp_seconds", "tokenoperator_token_previous_revocation_due_timestamp_seconds"} {
		if n := len(seriesOf(families, name, "no-status")); n != 0 {
			t.Errorf("a token without times has %d %s series, want none", n, name)
		}
	}

	SetSource(sourceOf(nil, nil))
	for name, family := range gather(t) {
		if strings.HasPrefix(name, "tokenoperator_token_") && len(family.GetMetric()) > 0 {
			t.Errorf("%s keeps %d series of tokens no longer listed", name, len(family.GetMetric()))
		}
	}
}

func gather(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	return byName
}

// seriesOf are the series of family whose name label is name.
func seriesOf(families map[string]*dto.MetricFamily, family, name string) []*dto.Metric {
	var found []*dto.Metric
	for _, m := range families[family].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "name" && l.GetValue() == name {
				found = append(found, m)
			}
		}
	}
	return found
}

// value is the gauge of family for token name, and condition when not empty;
// -1 when there is none.
func value(families map[string]*dto.MetricFamily, family, name, condition string) float64 {
	for _, m := range seriesOf(families, family, name) {
		if condition == "" || labelValue(m, "condition") == condition {
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func labelValue(m *dto.Metric, label string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == label {
			return l.GetValue()
		}
	}
	return ""
}
