// Package metrics holds the operator's Prometheus metrics, registered on
// controller-runtime's registry so that they are served beside its own. Their
// names and labels are a contract with users' alerts and dashboards (see
// docs/metrics.md): change them as an API. No metric ever carries a token value.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

const namespace = "tokenoperator"

// tokenLabels identify one token and where it comes from.
var tokenLabels = []string{"kind", "namespace", "name", "issuer_kind", "issuer_name"}

var (
	tokenExpiration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "token_expiration_timestamp_seconds",
		Help: "When the token in the Secret expires, as the remote system reported it, in seconds since the epoch.",
	}, tokenLabels)
	tokenRenewal = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "token_renewal_timestamp_seconds",
		Help: "When the operator will replace the token, in seconds since the epoch.",
	}, tokenLabels)
	tokenReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "token_ready_status",
		Help: "The token's Ready condition: 1 for the series whose condition label is its status, 0 for the others.",
	}, append(tokenLabels, "condition"))
	tokenPreviousPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "token_previous_pending",
		Help: "Replaced tokens still alive at the remote system, waiting for their revocation.",
	}, tokenLabels)
	tokenRevocationDue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "token_previous_revocation_due_timestamp_seconds",
		Help: "When the first replaced token still alive is due to be revoked at the latest (its revokeBy, else its revokeAt), in seconds since the epoch; absent when none waits.",
	}, tokenLabels)

	mints = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "mints_total",
		Help: "Tokens minted into their Secret, by the trigger that asked for them (the Issuing condition's reason).",
	}, []string{"kind", "reason"})
	revocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "revocations_total",
		Help: "Revocations of replaced or deleted tokens, by result: revoked, gone (already revoked), failed, abandoned.",
	}, []string{"kind", "result"})
	orphansRevoked = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "orphans_revoked_total",
		Help: "Tokens minted by an interrupted attempt that the operator found and revoked.",
	})
	consumerRestarts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "consumer_restarts_total",
		Help: "Workloads restarted to load a token's new Secret.",
	})

	issuerReady = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "issuer_ready_status",
		Help: "The issuer's Ready condition: 1 for the series whose condition label is its status, 0 for the others.",
	}, []string{"kind", "namespace", "name", "condition"})

	remoteRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "remote_requests_total",
		Help: "Requests to remote token APIs, by HTTP status code (\"error\" when no reply came).",
	}, []string{"system", "operation", "code"})
	remoteDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "remote_request_duration_seconds",
		Help: "How long requests to remote token APIs took, reply read included.",
		// Up to the default remote timeout, 30 s.
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"system", "operation"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(tokenExpiration, tokenRenewal, tokenReady, tokenPreviousPending, tokenRevocationDue,
		mints, revocations, orphansRevoked, consumerRestarts, issuerReady, remoteRequests, remoteDuration)
}
