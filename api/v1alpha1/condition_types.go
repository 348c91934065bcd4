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

	// ConsumersUpdatedCondition is True when every workload that read the Secret
	// at its last change has moved to the new content.
	ConsumersUpdatedCondition = "ConsumersUpdated"
)

// Reasons of the ConsumersUpdated condition.
const (
	// RolledOutReason: every consumer holds the current content.
	RolledOutReason = "RolledOut"
	// RollingOutReason: consumers are being restarted or refreshed.
	RollingOutReason = "RollingOut"
	// ConsumersNotReadyReason: consumers had not rolled out when maxOverlap passed;
	// also the Warning event that names them.
	ConsumersNotReadyReason = "ConsumersNotReady"
)

// Reasons of Ready, Stalled and Reconciling when a token cannot be reconciled.
const (
	// IssuerNotFoundReason: the issuerRef names no issuer (yet).
	IssuerNotFoundReason = "IssuerNotFound"
	// IssuerMismatchReason: the issuer mints another kind of token.
	IssuerMismatchReason = "IssuerMismatch"
	// NamespaceNotAllowedReason: a ClusterTokenIssuer's policy leaves the token's namespace out.
	NamespaceNotAllowedReason = "NamespaceNotAllowed"
	// PolicyViolationReason: the token asks for more than its issuer's policy allows.
	PolicyViolationReason = "PolicyViolation"
	// CredentialsNotFoundReason: the credentials Secret, or a key of it, is missing.
	CredentialsNotFoundReason = "CredentialsNotFound"
	// AuthenticationFailedReason: the remote system refused the credentials.
	AuthenticationFailedReason = "AuthenticationFailed"
	// UserMismatchReason: the credentials belong to another user than spec.user.
	UserMismatchReason = "UserMismatch"
	// RemoteRefusedReason: the remote system refused the request as invalid.
	RemoteRefusedReason = "RemoteAPIRefused"
	// RemoteErrorReason: the remote system failed or could not be reached; retried.
	RemoteErrorReason = "RemoteAPIError"
	// SecretConflictReason: the target Secret exists and belongs to something else.
	SecretConflictReason = "SecretConflict"
	// RevocationBlockedReason: deletion waits until the tokens can be revoked.
	RevocationBlockedReason = "RevocationBlocked"
	// IssuerNotReadyReason: the token's issuer has not passed its last check.
	IssuerNotReadyReason = "IssuerNotReady"
	// IssuerBusyReason: the issuer already has as many calls in flight as the
	// operator allows one issuer (--remote-calls-per-issuer); the token waits its turn.
	IssuerBusyReason = "IssuerBusy"
	// RecoveringMintReason: an interrupted mint's token may still be committed by
	// the remote system; the operator looks again once it cannot be any more.
	RecoveringMintReason = "RecoveringMint"
)

// Reasons of an issuer's Ready, Stalled and Reconciling conditions, besides those
// above it shares with tokens (CredentialsNotFound, AuthenticationFailed,
// RemoteAPIError, RemoteAPIRefused).
const (
	// ConfigurationInvalidReason: the issuer's spec cannot be used (a CA bundle
	// without a certificate, say).
	ConfigurationInvalidReason = "ConfigurationInvalid"
	// APIMismatchReason: the server does not serve the API spec.awx.api names, or
	// no AWX API at all.
	APIMismatchReason = "APIMismatch"
	// SigningKeyInvalidReason: the signing key cannot be used to sign DeviceHive
	// tokens.
	SigningKeyInvalidReason = "SigningKeyInvalid"
)

// Reasons of the Issuing condition: why a new token is being minted.
const (
	// DoesNotExistReason: no token has been minted yet.
	DoesNotExistReason = "DoesNotExist"
	// SecretMissingReason: the Secret that held the token is gone.
	SecretMissingReason = "SecretMissing"
	// SecretMismatchReason: the Secret no longer holds the current token.
	SecretMismatchReason = "SecretMismatch"
	// IssuerChangedReason: the issuer's URL or API (AWX), or URL, mode or signing
	// key (DeviceHive), changed since the token was minted: a new one is minted,
	// and an old AWX token revoked where it was minted.
	IssuerChangedReason = "IssuerChanged"
	// UserChangedReason: spec.user names another user than the token's owner.
	UserChangedReason = "UserChanged"
	// ManuallyTriggeredReason: the tokenoperator.io/rotate annotation changed.
	ManuallyTriggeredReason = "ManuallyTriggered"
	// RenewalDueReason: the token reached its renewal time.
	RenewalDueReason = "RenewalDue"
	// ExpiredReason: the token expired before it could be renewed.
	ExpiredReason = "Expired"
	// RightsChangedReason: the pair's user, actions, networks or device types differ
	// from the spec.
	RightsChangedReason = "RightsChanged"
	// LifetimeChangedReason: the pair's lifetimes differ from the spec.
	LifetimeChangedReason = "LifetimeChanged"
)

// Reasons of Normal events, one per transition.
const (
	// IssuedReason: the first token was minted into the Secret.
	IssuedReason = "Issued"
	// RotatedReason: a new token replaced the previous one in the Secret.
	RotatedReason = "Rotated"
	// UpdatedReason: the live token's description or scopes were changed in place.
	UpdatedReason = "Updated"
	// RevokedReason: a token was revoked at the remote system.
	RevokedReason = "Revoked"
	// ConsumersRestartedReason: the token's consumers were restarted to load its
	// new Secret.
	ConsumersRestartedReason = "ConsumersRestarted"
	// RestartedReason: the event on a workload the operator restarted, naming the
	// Secret and the token.
	RestartedReason = "Restarted"
	// AbandonedReason (Warning): a replaced token was left alive at AWX, as the
	// tokenoperator.io/abandon-previous-tokens annotation asked.
	AbandonedReason = "Abandoned"
	// OrphanRevokedReason: a token minted by an interrupted attempt was found and revoked.
	OrphanRevokedReason = "OrphanRevoked"
)
