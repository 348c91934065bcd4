package metrics

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestFamilies(t *testing.T) {
	RecordToken(Token{Kind: "PersonalToken", Namespace: "ns", Name: "families", IssuerKind: "TokenIssuer", IssuerName: "awx",
		ExpiresAt: time.Unix(2000, 0), RenewalTime: time.Unix(1000, 0), PreviousPending: 1, RevocationDue: time.Unix(500, 0)})
	t.Cleanup(func() { ForgetToken("PersonalToken", "ns", "families") })
	RecordIssuer("TokenIssuer", "ns", "awx", metav1.ConditionTrue)
	Minted("PersonalToken", "DoesNotExist")
	Revocation("PersonalToken", RevocationRevoked)
	OrphanRevoked()
	ConsumersRestarted(1)
	RemoteRequest(SystemAWX, "me", 200, time.Millisecond)

	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), namespace+"_") {
			got = append(got, f.GetName())
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

func TestRecordToken(t *testing.T) {
	tok := Token{Kind: "DeviceAccessToken", Namespace: "ns", Name: "record", IssuerKind: "ClusterTokenIssuer", IssuerName: "dh",
		ExpiresAt: time.Unix(2000, 500_000_000), RenewalTime: time.Unix(1000, 0), Ready: metav1.ConditionFalse}
	t.Cleanup(func() { ForgetToken(tok.Kind, tok.Namespace, tok.Name) })
	labels := []string{tok.Kind, tok.Namespace, tok.Name, tok.IssuerKind, tok.IssuerName}
	RecordToken(tok)

	if got := testutil.ToFloat64(tokenExpiration.WithLabelValues(labels...)); got != 2000.5 {
		t.Errorf("expiration = %v, want 2000.5", got)
	}
	for status, want := range map[string]float64{"True": 0, "False": 1, "Unknown": 0} {
		if got := testutil.ToFloat64(tokenReady.WithLabelValues(append(labels, status)...)); got != want {
			t.Errorf("ready_status{condition=%q} = %v, want %v", status, got, want)
		}
	}
	if n := countSeries(t, "tokenoperator_token_previous_revocation_due_timestamp_seconds", "record"); n != 0 {
		t.Errorf("a token with nothing to revoke has %d revocation-due series, want none", n)
	}

	tok.ExpiresAt, tok.Ready = time.Time{}, ""
	RecordToken(tok)
	if n := countSeries(t, "tokenoperator_token_expiration_timestamp_seconds", "record"); n != 0 {
		t.Errorf("a token without an expiry keeps %d expiration series, want none", n)
	}
	if got := testutil.ToFloat64(tokenReady.WithLabelValues(append(labels, "Unknown")...)); got != 1 {
		t.Errorf("a token without a Ready condition reads Unknown")
	}

	tok.IssuerName = "dh-moved"
	RecordToken(tok)
	if n := countSeries(t, "tokenoperator_token_renewal_timestamp_seconds", "record"); n != 1 {
		t.Errorf("after the issuer changed the token has %d renewal series, want only the new one", n)
	}

	ForgetToken(tok.Kind, tok.Namespace, tok.Name)
	if n := countSeries(t, "tokenoperator_token_renewal_timestamp_seconds", "record") + countSeries(t, "tokenoperator_token_ready_status", "record") + countSeries(t, "tokenoperator_token_previous_pending", "record"); n != 0 {
		t.Errorf("a forgotten token keeps %d series", n)
	}
}

// countSeries counts the series of family whose name label is name.
func countSeries(t *testing.T, family, name string) int {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "name" && l.GetValue() == name {
					n++
				}
			}
		}
	}
	return n
}
