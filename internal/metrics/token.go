package metrics

import (
	"maps"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Token is what the per-token series show of one token, read from its status.
type Token struct {
	Kind, Namespace, Name  string
	IssuerKind, IssuerName string
	// ExpiresAt and RenewalTime are zero when there is no such time.
	ExpiresAt, RenewalTime time.Time
	// Ready is the Ready condition's status; empty reads as Unknown.
	Ready metav1.ConditionStatus
	// PreviousPending counts the replaced tokens not revoked yet, and
	// RevocationDue is when the first of them is due at the latest (zero: none).
	PreviousPending int
	RevocationDue   time.Time
}

// RecordToken sets the token's series to what t says. It is called after each
// reconcile, so it only touches memory.
func RecordToken(t Token) {
	labels := prometheus.Labels{"kind": t.Kind, "namespace": t.Namespace, "name": t.Name,
		"issuer_kind": t.IssuerKind, "issuer_name": t.IssuerName}
	key := tokenKey{t.Kind, t.Namespace, t.Name}
	recorded.Lock()
	defer recorded.Unlock()
	if old, ok := recorded.labels[key]; ok && (old["issuer_name"] != t.IssuerName || old["issuer_kind"] != t.IssuerKind) {
		deleteTokenSeries(old)
	}
	recorded.labels[key] = labels

	setOrDelete(tokenExpiration, labels, t.ExpiresAt)
	setOrDelete(tokenRenewal, labels, t.RenewalTime)
	setConditionStatus(tokenReady, labels, t.Ready)
	tokenPreviousPending.With(labels).Set(float64(t.PreviousPending))
	setOrDelete(tokenRevocationDue, labels, t.RevocationDue)
}

// ForgetToken removes the series of a token that is gone.
func ForgetToken(kind, namespace, name string) {
	key := tokenKey{kind, namespace, name}
	recorded.Lock()
	defer recorded.Unlock()
	if labels, ok := recorded.labels[key]; ok {
		deleteTokenSeries(labels)
		delete(recorded.labels, key)
	}
}

type tokenKey struct{ kind, namespace, name string }

// recorded remembers each token's labels, so that a token is forgotten without
// a scan of every series: at 10,000 tokens a scan per deletion would add up.
var recorded = struct {
	sync.Mutex
	labels map[tokenKey]prometheus.Labels
}{labels: map[tokenKey]prometheus.Labels{}}

func deleteTokenSeries(labels prometheus.Labels) {
	tokenExpiration.Delete(labels)
	tokenRenewal.Delete(labels)
	tokenPreviousPending.Delete(labels)
	tokenRevocationDue.Delete(labels)
	deleteConditionStatus(tokenReady, labels)
}

func setOrDelete(g *prometheus.GaugeVec, labels prometheus.Labels, at time.Time) {
	if at.IsZero() {
		g.Delete(labels)
		return
	}
	g.With(labels).Set(float64(at.UnixMilli()) / 1000)
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// setConditionStatus sets one series per condition status, 1 for status and 0
// for the others, as kube-state-metrics and cert-manager do: an alert on
// {condition="False"} == 1 then needs no absent() guard.
func setConditionStatus(g *prometheus.GaugeVec, labels prometheus.Labels, status metav1.ConditionStatus) {
	if status == "" {
		status = metav1.ConditionUnknown
	}
	for _, s := range conditionStatuses {
		value := 0.0
		if s == status {
			value = 1
		}
		g.With(withCondition(labels, s)).Set(value)
	}
}

func deleteConditionStatus(g *prometheus.GaugeVec, labels prometheus.Labels) {
	for _, s := range conditionStatuses {
		g.Delete(withCondition(labels, s))
	}
}

func withCondition(labels prometheus.Labels, s metav1.ConditionStatus) prometheus.Labels {
	l := maps.Clone(labels)
	l["condition"] = string(s)
	return l
}
