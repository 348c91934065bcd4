package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IssuerKind names the kind of issuer a token refers to.
// +kubebuilder:validation:Enum=TokenIssuer;ClusterTokenIssuer
type IssuerKind string

const (
	// TokenIssuerKind is a namespaced issuer in the token's own namespace.
	TokenIssuerKind IssuerKind = "TokenIssuer"
	// ClusterTokenIssuerKind is a cluster-scoped issuer.
	ClusterTokenIssuerKind IssuerKind = "ClusterTokenIssuer"
)

// IssuerRef points a token at the issuer that mints it.
type IssuerRef struct {
	// kind is TokenIssuer (in the token's namespace) or ClusterTokenIssuer.
	// +kubebuilder:default=TokenIssuer
	// +optional
	Kind IssuerKind `json:"kind,omitempty"`

	// name is the name of the issuer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// LocalSecretRef names a Secret in the namespace of the object that refers to it
// (for a ClusterTokenIssuer: the operator's namespace).
type LocalSecretRef struct {
	// name is the name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// SecretKeyRef names one key of a Secret in the namespace of the object that refers
// to it (for a ClusterTokenIssuer: the operator's namespace).
type SecretKeyRef struct {
	// name is the name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// key is the key in the Secret's data that holds the value.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +kubebuilder:default=secret
	// +optional
	Key string `json:"key,omitempty"`
}

// Rotation says when a token is replaced by a new one. The token is renewed at the
// earliest of issuedAt + maxAge and expiresAt - renewBefore, where expiresAt is the
// expiry the remote system returned, brought forward by a jitter fixed per token
// (up to a tenth of its time in use, at most 30 minutes) so that tokens created
// together do not all renew at once; never later.
// +kubebuilder:validation:XValidation:rule="!(has(self.renewBefore) && has(self.renewBeforePercentage))",message="renewBefore and renewBeforePercentage are mutually exclusive: set at most one",fieldPath=.renewBeforePercentage
type Rotation struct {
	// maxAge is the longest a token lives before it is replaced, whatever its expiry.
	// AWX tokens expire after about 1000 years by default, so maxAge is what rotates them.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="maxAge must be at least 1m"
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`

	// renewBefore renews the token this long before it expires. One at least as long
	// as the lifetime the server gave falls back to renewBeforePercentage's default.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`

	// renewBeforePercentage renews the token when this percentage of its lifetime is
	// left, e.g. 33 renews after two thirds of the lifetime.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=99
	// +optional
	RenewBeforePercentage *int32 `json:"renewBeforePercentage,omitempty"`

	// overlap keeps the previous token valid at least this long after the Secret
	// holds the new one; it is revoked once the overlap has passed and the Secret's
	// consumers have rolled out (see consumers.maxOverlap). Zero waits for the
	// consumers only.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Overlap *metav1.Duration `json:"overlap,omitempty"`
}

// SecretTemplate says which Secret receives the token and what metadata it carries.
// +kubebuilder:validation:XValidation:rule="!has(self.labels) || !('app.kubernetes.io/managed-by' in self.labels)",message="labels must not set app.kubernetes.io/managed-by: the operator sets it to find the Secrets it owns",fieldPath=.labels
type SecretTemplate struct {
	// name is the name of the Secret, in the token's namespace. The operator creates
	// it and owns it; it must not be a Secret that something else manages.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +required
	Name string `json:"name"`

	// labels are added to the Secret. Those the operator's shards select by
	// (sharding.tokenoperator.io/key, and any other key --shard names) come from
	// the token's own labels instead, so that the token's shard caches its Secret.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// annotations are added to the Secret.
	// +kubebuilder:validation:MaxProperties=64
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// TokenStatus is what every token kind reports. It never holds a token value.
type TokenStatus struct {
	// observedGeneration is the generation last reconciled to an outcome.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready summarises; Reconciling, Stalled and Issuing are present only
	// while they are True.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// secretName is the Secret that holds the current token.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// issuedAt is when the current token was minted.
	// +optional
	IssuedAt *metav1.Time `json:"issuedAt,omitempty"`

	// expiresAt is when the current token expires, as the remote system said.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// renewalTime is when the current token will be replaced.
	// +optional
	RenewalTime *metav1.Time `json:"renewalTime,omitempty"`

	// revision counts the tokens minted for this object; the first is 1.
	// +optional
	Revision int64 `json:"revision,omitempty"`

	// lastHandledRotateAt is the value of the tokenoperator.io/rotate annotation that
	// last forced a rotation.
	// +optional
	LastHandledRotateAt string `json:"lastHandledRotateAt,omitempty"`

	// failedIssuanceAttempts counts the failed attempts since the last success; retries
	// back off exponentially with it.
	// +optional
	FailedIssuanceAttempts int32 `json:"failedIssuanceAttempts,omitempty"`

	// lastFailureTime is when the last attempt failed.
	// +optional
	LastFailureTime *metav1.Time `json:"lastFailureTime,omitempty"`

	// secretVersion identifies the content the Secret held at its last change: a
	// digest of its data, never the data. The consumers of each new version are
	// brought to it.
	// +optional
	SecretVersion string `json:"secretVersion,omitempty"`

	// secretChangedAt is when the Secret last changed to a new version.
	// +optional
	SecretChangedAt *metav1.Time `json:"secretChangedAt,omitempty"`

	// consumers are the workloads that read the Secret when it last changed, and
	// whether they have moved to the new version.
	// +listType=atomic
	// +optional
	Consumers []ConsumerStatus `json:"consumers,omitempty"`
}

// Annotations the operator reads on token objects.
const (
	// RotateAnnotation forces a rotation whenever its value changes.
	RotateAnnotation = "tokenoperator.io/rotate"

	// ReleaseFinalizerAnnotation, set to "true" on a token being deleted, lets the
	// deletion finish without revoking, when revoking cannot succeed (the
	// credentials are gone, say). The remote tokens are then left alive.
	ReleaseFinalizerAnnotation = "tokenoperator.io/release-finalizer"

	// AbandonPreviousTokensAnnotation, set to "true" on a PersonalToken whose
	// credentials now belong to another AWX user, lets it forget the replaced
	// tokens of the previous user, which these credentials cannot revoke. They stay
	// alive at AWX; a Warning event lists them.
	AbandonPreviousTokensAnnotation = "tokenoperator.io/abandon-previous-tokens"
)

// Annotations the operator writes on the Secrets it owns.
const (
	// TokenIDAnnotation is the remote id of the token a Secret holds.
	TokenIDAnnotation = "tokenoperator.io/token-id"
	// TokenHashAnnotation is the SHA-256 of the token value a Secret holds, so that
	// a value changed by hand is noticed. A hash of a random 30-character token
	// cannot be reversed.
	TokenHashAnnotation = "tokenoperator.io/token-hash"
	// TemplateKeysAnnotation lists the label and annotation keys spec.secret set,
	// so that one removed from spec.secret is removed from the Secret too.
	TemplateKeysAnnotation = "tokenoperator.io/template-keys"
)

// Annotations the operator writes on the pod template of a workload it restarts:
// changing them rolls the workload out.
const (
	// RestartedAtAnnotation is when the operator last restarted the workload.
	RestartedAtAnnotation = "tokenoperator.io/restarted-at"
	// RestartedForAnnotation lists the token Secrets the running pod template was
	// restarted for, as name=version pairs (see status.secretVersion), so that a
	// change is restarted for once, and a workload reading several Secrets that
	// change together rolls out once.
	RestartedForAnnotation = "tokenoperator.io/restarted-for"
)

// Labels the operator puts on the Secrets it writes. Its cache holds only Secrets
// with this label, never every Secret of the cluster.
const (
	// ManagedByLabel marks a Secret written by the operator.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel on the operator's Secrets.
	ManagedByValue = "token-operator"

	// ShardLabel says which operator shard reconciles a token, as Flux's
	// sharding.fluxcd.io/key does: a shard runs with
	// --shard='sharding.tokenoperator.io/key in (shard1)', and the main operator with
	// --shard='sharding.tokenoperator.io/key notin (shard1)' takes the rest. A
	// token's Secret carries the token's value of it, so that the shard's cache
	// selects both alike; an issuer with it is checked by that shard only.
	ShardLabel = "sharding.tokenoperator.io/key"

	// CredentialsLabel, set to "true" by the operator on the credentials Secrets it
	// reads, lets it watch those Secrets (their metadata only), and no others, so
	// that a fixed password is picked up at once.
	CredentialsLabel = "tokenoperator.io/credentials"
)
