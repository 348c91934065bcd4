package metrics

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The per-object series are computed at each scrape from the objects
// themselves, as kube-state-metrics does, rather than kept: nothing to keep in
// step, nothing left behind by a deleted token, and no memory per token between
// scrapes. They are built as the exposition's families directly, not as
// client_golang metrics: a token's series share its label pairs, so that a
// scrape of 10,000 tokens (60,000 series) allocates a few MiB, not the tens of
// MiB that one constant metric per series costs (label pairs copied and sorted
// for each, then converted).
var objects = &objectGatherer{}

// withObjects is controller-runtime's registry, whose metrics endpoint serves
// its Gather, with the per-object families added.
type withObjects struct {
	ctrlmetrics.RegistererGatherer
}

// Gather appends the per-object families to the registry's, as they are:
// their names are the operator's own, which no registered collector uses
// (TestFamilies), and each of their series is built once, valid, so the
// checking, hashing and sorting of prometheus.Gatherers would be all cost.
func (r withObjects) Gather() ([]*dto.MetricFamily, error) {
	families, err := r.RegistererGatherer.Gather()
	families = append(families, objects.families()...)
	slices.SortFunc(families, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return families, err
}

// scrapeTimeout bounds how long a scrape waits for the source.
const scrapeTimeout = 10 * time.Second

// objectGatherer builds the per-object families from its source.
type objectGatherer struct {
	source atomic.Pointer[Source]
}

// family is a gauge family under construction.
type family struct {
	name, help string
	metrics    []*dto.Metric
}

func (f *family) add(labels []*dto.LabelPair, value float64) {
	f.metrics = append(f.metrics, &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: &value}})
}

// addTime adds at in seconds since the epoch; nothing when at is zero.
func (f *family) addTime(labels []*dto.LabelPair, at time.Time) {
	if !at.IsZero() {
		f.add(labels, float64(at.UnixMilli())/1000)
	}
}

// conditionStatuses are the values of the condition label: one series each, 1
// for the object's status and 0 for the others, as kube-state-metrics and
// cert-manager do: an alert on {condition="False"} == 1 then needs no absent()
// guard.
var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

var conditionPairs = func() map[metav1.ConditionStatus]*dto.LabelPair {
	out := map[metav1.ConditionStatus]*dto.LabelPair{}
	for _, s := range conditionStatuses {
		out[s] = pair("condition", string(s))
	}
	return out
}()

// addCondition adds a series per condition status; labels are sorted by name,
// and "condition" comes first.
func (f *family) addCondition(labels []*dto.LabelPair, status metav1.ConditionStatus) {
	if status == "" {
		status = metav1.ConditionUnknown
	}
	for _, s := range conditionStatuses {
		value := 0.0
		if s == status {
			value = 1
		}
		f.add(append([]*dto.LabelPair{conditionPairs[s]}, labels...), value)
	}
}

func pair(name, value string) *dto.LabelPair { return &dto.LabelPair{Name: &name, Value: &value} }

// families are the per-object families of the objects the source lists now.
func (o *objectGatherer) families() []*dto.MetricFamily {
	source := o.source.Load()
	if source == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	tokens, issuers, err := (*source)(ctx)
	if err != nil {
		// Before the cache has synced, say: the next scrape has them.
		ctrl.Log.WithName("metrics").V(1).Info("Could not list the tokens for a scrape", "error", err.Error())
		return nil
	}
	expiration := &family{name: namespace + "_token_expiration_timestamp_seconds",
		help: "When the token in the Secret expires, as the remote system reported it, in seconds since the epoch."}
	renewal := &family{name: namespace + "_token_renewal_timestamp_seconds",
		help: "When the operator will replace the token, in seconds since the epoch."}
	ready := &family{name: namespace + "_token_ready_status",
		help: "The token's Ready condition: 1 for the series whose condition label is its status, 0 for the others."}
	pending := &family{name: namespace + "_token_previous_pending",
		help: "Replaced tokens still alive at the remote system, waiting for their revocation."}
	due := &family{name: namespace + "_token_previous_revocation_due_timestamp_seconds",
		help: "When the first replaced token still alive is due to be revoked at the latest (its revokeBy, else its revokeAt), in seconds since the epoch; absent when none waits."}
	issuerReady := &family{name: namespace + "_issuer_ready_status",
		help: "The issuer's Ready condition: 1 for the series whose condition label is its status, 0 for the others."}

	// Kinds, namespaces and issuers repeat across tokens: one pair each.
	pairs := map[[2]string]*dto.LabelPair{}
	shared := func(name, value string) *dto.LabelPair {
		p := pairs[[2]string{name, value}]
		if p == nil {
			p = pair(name, value)
			pairs[[2]string{name, value}] = p
		}
		return p
	}
	for _, t := range tokens {
		// Sorted by label name, as the exposition wants them.
		labels := []*dto.LabelPair{shared("issuer_kind", t.IssuerKind), shared("issuer_name", t.IssuerName),
			shared("kind", t.Kind), pair("name", t.Name), shared("namespace", t.Namespace)}
		expiration.addTime(labels, t.ExpiresAt)
		renewal.addTime(labels, t.RenewalTime)
		ready.addCondition(labels, t.Ready)
		pending.add(labels, float64(t.PreviousPending))
		due.addTime(labels, t.RevocationDue)
	}
	for _, i := range issuers {
		issuerReady.addCondition([]*dto.LabelPair{shared("kind", i.Kind), pair("name", i.Name), shared("namespace", i.Namespace)}, i.Ready)
	}
	var out []*dto.MetricFamily
	for _, f := range []*family{expiration, renewal, ready, pending, due, issuerReady} {
		if len(f.metrics) > 0 {
			out = append(out, &dto.MetricFamily{Name: &f.name, Help: &f.help, Type: dto.MetricType_GAUGE.Enum(), Metric: f.metrics})
		}
	}
	return out
}
