package metrics

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Results of a revocation.
const (
	RevocationRevoked   = "revoked"
	RevocationGone      = "gone"
	RevocationFailed    = "failed"
	RevocationAbandoned = "abandoned"
)

// Minted counts a token of kind minted into its Secret for reason.
func Minted(kind, reason string) {
	if reason == "" {
		reason = "Unknown"
	}
	mints.WithLabelValues(kind, reason).Inc()
}

// Revocation counts a revocation of a token of kind with its result.
func Revocation(kind, result string) { revocations.WithLabelValues(kind, result).Inc() }

// OrphanRevoked counts an orphan token found and revoked.
func OrphanRevoked() { orphansRevoked.Inc() }

// ConsumersRestarted counts n workloads restarted.
func ConsumersRestarted(n int) { consumerRestarts.Add(float64(n)) }

// RecordIssuer sets an issuer's Ready series; namespace is empty for a
// ClusterTokenIssuer.
func RecordIssuer(kind, namespace, name string, ready metav1.ConditionStatus) {
	setConditionStatus(issuerReady, issuerLabels(kind, namespace, name), ready)
}

// ForgetIssuer removes the series of an issuer that is gone.
func ForgetIssuer(kind, namespace, name string) {
	deleteConditionStatus(issuerReady, issuerLabels(kind, namespace, name))
}

func issuerLabels(kind, namespace, name string) map[string]string {
	return map[string]string{"kind": kind, "namespace": namespace, "name": name}
}
