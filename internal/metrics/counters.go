package metrics

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
