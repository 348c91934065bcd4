package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
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

// Issuer is what the per-issuer series show of one issuer.
type Issuer struct {
	// Namespace is empty for a ClusterTokenIssuer.
	Kind, Namespace, Name string
	Ready                 metav1.ConditionStatus
}

// Source lists the tokens and issuers as they are now: the operator reads them
// from its cache at each scrape.
type Source func(ctx context.Context) ([]Token, []Issuer, error)

// SetSource makes source the one the per-token and per-issuer series are read
// from (nil: none, no series); the last manager of a process to set it wins.
func SetSource(source Source) {
	if source == nil {
		collector.source.Store(nil)
		return
	}
	collector.source.Store(&source)
}

// The per-object series are computed at each scrape from the objects
// themselves, as kube-state-metrics does, rather than kept: nothing to keep in
// step, nothing left behind by a deleted token, and no memory per token between
// scrapes (at 10,000 tokens, stored series would hold tens of MiB).
var collector = &objectCollector{}

// scrapeTimeout bounds how long a scrape waits for the source.
const scrapeTimeout = 10 * time.Second

var tokenLabels = []string{"kind", "namespace", "name", "issuer_kind", "issuer_name"}

var (
	tokenExpiration = prometheus.NewDesc(namespace+"_token_expiration_timestamp_seconds",
		"When the token in the Secret expires, as the remote system reported it, in seconds since the epoch.", tokenLabels, nil)
	tokenRenewal = prometheus.NewDesc(namespace+"_token_renewal_timestamp_seconds",
		"When the operator will replace the token, in seconds since the epoch.", tokenLabels, nil)
	tokenReady = prometheus.NewDesc(namespace+"_token_ready_status",
		"The token's Ready condition: 1 for the series whose condition label is its status, 0 for the others.",
		append(tokenLabels, "condition"), nil)
	tokenPreviousPending = prometheus.NewDesc(namespace+"_token_previous_pending",
		"Replaced tokens still alive at the remote system, waiting for their revocation.", tokenLabels, nil)
	tokenRevocationDue = prometheus.NewDesc(namespace+"_token_previous_revocation_due_timestamp_seconds",
		"When the first replaced token still alive is due to be revoked at the latest (its revokeBy, else its revokeAt), in seconds since the epoch; absent when none waits.",
		tokenLabels, nil)
	issuerReady = prometheus.NewDesc(namespace+"_issuer_ready_status",
		"The issuer's Ready condition: 1 for the series whose condition label is its status, 0 for the others.",
		[]string{"kind", "namespace", "name", "condition"}, nil)
)

type objectCollector struct {
	source atomic.Pointer[Source]
}

func (c *objectCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{tokenExpiration, tokenRenewal, tokenReady, tokenPreviousPending, tokenRevocationDue, issuerReady} {
		ch <- d
	}
}

func (c *objectCollector) Collect(ch chan<- prometheus.Metric) {
	source := c.source.Load()
	if source == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	tokens, issuers, err := (*source)(ctx)
	if err != nil {
		// Before the cache has synced, say: the next scrape has them.
		ctrl.Log.WithName("metrics").V(1).Info("Could not list the tokens for a scrape", "error", err.Error())
		return
	}
	for _, t := range tokens {
		labels := []string{t.Kind, t.Namespace, t.Name, t.IssuerKind, t.IssuerName}
		timestamp(ch, tokenExpiration, t.ExpiresAt, labels)
		timestamp(ch, tokenRenewal, t.RenewalTime, labels)
		conditionStatus(ch, tokenReady, t.Ready, labels)
		ch <- prometheus.MustNewConstMetric(tokenPreviousPending, prometheus.GaugeValue, float64(t.PreviousPending), labels...)
		timestamp(ch, tokenRevocationDue, t.RevocationDue, labels)
	}
	for _, i := range issuers {
		conditionStatus(ch, issuerReady, i.Ready, []string{i.Kind, i.Namespace, i.Name})
	}
}

// timestamp sends at, in seconds since the epoch; nothing when at is zero.
func timestamp(ch chan<- prometheus.Metric, d *prometheus.Desc, at time.Time, labels []string) {
	if !at.IsZero() {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(at.UnixMilli())/1000, labels...)
	}
}

var conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}

// conditionStatus sends one series per condition status, 1 for status and 0
// for the others, as kube-state-metrics and cert-manager do: an alert on
// {condition="False"} == 1 then needs no absent() guard.
func conditionStatus(ch chan<- prometheus.Metric, d *prometheus.Desc, status metav1.ConditionStatus, labels []string) {
	if status == "" {
		status = metav1.ConditionUnknown
	}
	for _, s := range conditionStatuses {
		value := 0.0
		if s == status {
			value = 1
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, value, append(labels[:len(labels):len(labels)], string(s))...)
	}
}
