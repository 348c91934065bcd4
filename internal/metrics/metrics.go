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

var (
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
	ctrlmetrics.Registry.MustRegister(mints, revocations, orphansRevoked, consumerRestarts, remoteRequests, remoteDuration)
	// controller-runtime's metrics endpoint serves what this registry gathers.
	ctrlmetrics.Registry = withObjects{ctrlmetrics.Registry}
}
