package v1alpha1

// Condition types. Ready is the summary that `kubectl wait --for=condition=Ready`,
// Argo CD and Flux read; Reconciling and Stalled follow kstatus and are present only
// while they are True.
const (
	// ReadyCondition is True when the object is fully reconciled: for a token, a live
	// token is in its Secret and nothing is due; for an issuer, it can mint.
	ReadyCondition = "Ready"

	// ReconcilingCondition (abnormal-true) is present while work is pending or being
	// retried.
	ReconcilingCondition = "Reconciling"

	// StalledCondition (abnormal-true) is present when the operator has stopped until
	// the spec (or something it references) changes.
	StalledCondition = "Stalled"

	// IssuingCondition (abnormal-true) is present while a new token is being minted,
	// from the moment the intent is recorded until the Secret holds the new token.
	IssuingCondition = "Issuing"
)
