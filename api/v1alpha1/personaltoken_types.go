package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PersonalTokenScope is an AWX token scope.
// +kubebuilder:validation:Enum=read;write
type PersonalTokenScope string

const (
	// ScopeRead allows GET requests only.
	ScopeRead PersonalTokenScope = "read"
	// ScopeWrite allows every request the user may make.
	ScopeWrite PersonalTokenScope = "write"
)

// PersonalTokenSecretFormat names the keys the token is written under.
// +kubebuilder:validation:Enum=Controller;Tower;Gateway;ResourceOperator;Plain
type PersonalTokenSecretFormat string

const (
	// SecretFormatController writes CONTROLLER_HOST and CONTROLLER_OAUTH_TOKEN, read
	// by the awx.awx collection and the awx CLI.
	SecretFormatController PersonalTokenSecretFormat = "Controller"
	// SecretFormatTower writes the legacy TOWER_HOST and TOWER_OAUTH_TOKEN.
	SecretFormatTower PersonalTokenSecretFormat = "Tower"
	// SecretFormatGateway writes AAP_HOSTNAME and AAP_TOKEN (ansible.platform).
	SecretFormatGateway PersonalTokenSecretFormat = "Gateway"
	// SecretFormatResourceOperator writes host and token, read by the AAP Resource
	// Operator.
	SecretFormatResourceOperator PersonalTokenSecretFormat = "ResourceOperator"
	// SecretFormatPlain writes token only.
	SecretFormatPlain PersonalTokenSecretFormat = "Plain"
)

// DeletionPolicy says what happens to the remote tokens when their object is deleted.
// +kubebuilder:validation:Enum=Revoke;Retain
type DeletionPolicy string

const (
	// DeletionPolicyRevoke deletes every token the object still owns at the remote
	// system before the object goes.
	DeletionPolicyRevoke DeletionPolicy = "Revoke"
	// DeletionPolicyRetain leaves the tokens alive at the remote system.
	DeletionPolicyRetain DeletionPolicy = "Retain"
)

// PersonalTokenSecret is the Secret a PersonalToken is written to.
type PersonalTokenSecret struct {
	SecretTemplate `json:",inline"`

	// format names the keys: Controller (CONTROLLER_HOST, CONTROLLER_OAUTH_TOKEN),
	// Tower (TOWER_HOST, TOWER_OAUTH_TOKEN), Gateway (AAP_HOSTNAME, AAP_TOKEN),
	// ResourceOperator (host, token) or Plain (token).
	// +kubebuilder:default=Controller
	// +optional
	Format PersonalTokenSecretFormat `json:"format,omitempty"`
}

// PersonalTokenSpec is the AWX personal access token a user wants.
type PersonalTokenSpec struct {
	// issuerRef is the issuer (with an awx block) that mints this token. It cannot
	// change: the old token could no longer be revoked.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="issuerRef is immutable: create a new PersonalToken for another issuer"
	// +required
	IssuerRef IssuerRef `json:"issuerRef"`

	// credentialsSecretRef names a Secret in this namespace with the credentials of
	// the AWX user the token is for: username and password, or a token (with write
	// scope). AWX mints tokens only for the caller.
	// +required
	CredentialsSecretRef LocalSecretRef `json:"credentialsSecretRef"`

	// user is the expected AWX username; when set, the credentials are checked with
	// /me before minting and a mismatch is refused.
	// +kubebuilder:validation:MaxLength=150
	// +optional
	User string `json:"user,omitempty"`

	// scopes of the token: read, write, or both.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:default={write}
	// +optional
	Scopes []PersonalTokenScope `json:"scopes,omitempty"`

	// description is shown with the token in AWX. Changing it updates the live token.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Description string `json:"description,omitempty"`

	// rotation says when the token is replaced and how long the old one stays valid.
	// +optional
	Rotation *Rotation `json:"rotation,omitempty"`

	// consumers says which workloads reading the Secret are restarted when it
	// changes, and how long the previous token waits for them.
	// +optional
	Consumers *Consumers `json:"consumers,omitempty"`

	// secret is where the token is written.
	// +required
	Secret PersonalTokenSecret `json:"secret"`

	// deletionPolicy is Revoke (delete the tokens at AWX when this object is deleted)
	// or Retain.
	// +kubebuilder:default=Revoke
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// AWXEndpoint is where an AWX token was minted, and so the only place it can be
// found and revoked.
type AWXEndpoint struct {
	// url is the issuer's spec.awx.url when the token was minted.
	// +required
	URL string `json:"url"`

	// api is the API it was minted through: Controller or Gateway.
	// +required
	API AWXAPI `json:"api"`
}

// PendingMint records a mint in flight, written before the remote call so that a
// crash can be recovered without leaving an orphan token.
type PendingMint struct {
	// marker is the unique string put in the description of the token being minted.
	// +required
	Marker string `json:"marker"`

	// startedAt is when the mint was decided.
	// +required
	StartedAt metav1.Time `json:"startedAt"`

	// userId is the AWX user the token is minted for: only that user's credentials
	// can find it again.
	// +optional
	UserID int64 `json:"userId,omitempty"`

	// secretName is the Secret the token is written to.
	// +optional
	SecretName string `json:"secretName,omitempty"`

	// endpoint is where the token is being minted.
	// +optional
	Endpoint *AWXEndpoint `json:"endpoint,omitempty"`

	// rotateAt is the tokenoperator.io/rotate annotation's value when the mint was
	// decided: a value set while the mint was interrupted asks for another token.
	// +optional
	RotateAt string `json:"rotateAt,omitempty"`
}

// PreviousToken is a replaced token waiting to be revoked.
type PreviousToken struct {
	// id is the token's id at the remote system.
	// +required
	ID int64 `json:"id"`

	// revokeAt is the earliest the token is revoked: when the rotation overlap has
	// passed. It is revoked then if the Secret's consumers have rolled out.
	// +required
	RevokeAt metav1.Time `json:"revokeAt"`

	// revokeBy is the latest the token is revoked, whether or not consumers have
	// rolled out: spec.consumers.maxOverlap after the Secret changed.
	// +optional
	RevokeBy *metav1.Time `json:"revokeBy,omitempty"`

	// userId is the AWX user the token belongs to: only that user's credentials
	// can revoke it.
	// +optional
	UserID int64 `json:"userId,omitempty"`

	// endpoint is where the token was minted: it is revoked there, and nowhere else.
	// +optional
	Endpoint *AWXEndpoint `json:"endpoint,omitempty"`
}

// PersonalTokenStatus is the observed state of a PersonalToken. It never holds a
// token value.
type PersonalTokenStatus struct {
	TokenStatus `json:",inline"`

	// tokenId is the id of the current token at AWX.
	// +optional
	TokenID int64 `json:"tokenId,omitempty"`

	// endpoint is where the current token was minted.
	// +optional
	Endpoint *AWXEndpoint `json:"endpoint,omitempty"`

	// userId is the AWX id of the user the token belongs to.
	// +optional
	UserID int64 `json:"userId,omitempty"`

	// user is the AWX username the token belongs to.
	// +optional
	User string `json:"user,omitempty"`

	// scopes are the scopes the current token has at AWX.
	// +listType=set
	// +optional
	Scopes []PersonalTokenScope `json:"scopes,omitempty"`

	// description is the description the current token has at AWX.
	// +optional
	Description string `json:"description,omitempty"`

	// pendingMint is present while a mint is in flight.
	// +optional
	PendingMint *PendingMint `json:"pendingMint,omitempty"`

	// lastOrphanSweep is when the user's tokens carrying this PersonalToken's
	// marker were last looked through for orphans (see the OrphanRevoked event).
	// +optional
	LastOrphanSweep *metav1.Time `json:"lastOrphanSweep,omitempty"`

	// previousTokens are replaced tokens waiting to be revoked. Ids are not keys:
	// the same id at two servers is two tokens.
	// +listType=atomic
	// +optional
	PreviousTokens []PreviousToken `json:"previousTokens,omitempty"`
}

// PersonalToken keeps an AWX / Ansible Automation Platform personal access token
// alive in a Secret: it is minted, rotated and revoked by the operator.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=ptoken,categories=tokenoperator
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.spec.secret.name`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Renews",type=string,JSONPath=`.status.renewalTime`
// +kubebuilder:printcolumn:name="Scopes",type=string,JSONPath=`.spec.scopes`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type PersonalToken struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the token the user wants.
	// +required
	Spec PersonalTokenSpec `json:"spec"`

	// status is the observed state; it never holds a token value.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status PersonalTokenStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *PersonalToken) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *PersonalToken) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// SetObservedGeneration records the generation reconciled to an outcome.
func (in *PersonalToken) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetTokenStatus returns the status every token kind shares.
func (in *PersonalToken) GetTokenStatus() *TokenStatus { return &in.Status.TokenStatus }

// GetIssuerRef returns the issuer that mints the token.
func (in *PersonalToken) GetIssuerRef() IssuerRef { return in.Spec.IssuerRef }

// GetRotation returns when the token is replaced; nil means the defaults.
func (in *PersonalToken) GetRotation() *Rotation { return in.Spec.Rotation }

// GetConsumers returns what happens to the Secret's consumers; nil means the defaults.
func (in *PersonalToken) GetConsumers() *Consumers { return in.Spec.Consumers }

// GetSecretTemplate returns the Secret the token is written to.
func (in *PersonalToken) GetSecretTemplate() SecretTemplate { return in.Spec.Secret.SecretTemplate }

// PersonalTokenList is a list of PersonalTokens.
// +kubebuilder:object:root=true
type PersonalTokenList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []PersonalToken `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PersonalToken{}, &PersonalTokenList{})
}
