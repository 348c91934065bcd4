package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeviceHiveAction is a named DeviceHive action. The wildcard "*" is left out on
// purpose: a token lists every right it needs.
// +kubebuilder:validation:Enum=GetNetwork;GetDevice;GetDeviceNotification;GetDeviceCommand;RegisterDevice;CreateDeviceCommand;UpdateDeviceCommand;CreateDeviceNotification;GetCurrentUser;UpdateCurrentUser;ManageUser;ManageConfiguration;ManageNetwork;ManageToken;ManagePlugin;GetDeviceType;ManageDeviceType
type DeviceHiveAction string

// DeviceAccessTokenSpec is the DeviceHive access and refresh token pair a user wants.
// DeviceHive cannot revoke a token, so a pair stays valid until it expires.
// +kubebuilder:validation:XValidation:rule="duration(self.refreshTokenLifetime) >= duration(self.accessTokenLifetime)",message="refreshTokenLifetime must be at least accessTokenLifetime",fieldPath=.refreshTokenLifetime
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.rotation.overlap)",message="rotation.overlap is not supported: DeviceHive cannot revoke tokens, so the old pair stays valid until it expires",fieldPath=.rotation.overlap
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.rotation.renewBefore) || duration(self.rotation.renewBefore) < duration(self.accessTokenLifetime)",message="rotation.renewBefore must be shorter than accessTokenLifetime",fieldPath=.rotation.renewBefore
type DeviceAccessTokenSpec struct {
	// issuerRef is the issuer (with a deviceHive block) that mints this token.
	// +required
	IssuerRef IssuerRef `json:"issuerRef"`

	// userId is the DeviceHive user the token acts as.
	// +kubebuilder:validation:Minimum=1
	// +required
	UserID int64 `json:"userId"`

	// actions the token allows, by name. At least one: DeviceHive reads an empty list
	// as every action, so an empty list is refused.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=17
	// +required
	Actions []DeviceHiveAction `json:"actions"`

	// networkIds the token may reach: numeric ids, or ["*"] for every network the
	// user can reach (if the issuer's policy allows it).
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=19
	// +kubebuilder:validation:items:Pattern=`^([0-9]+|\*)$`
	// +kubebuilder:validation:XValidation:rule="!('*' in self) || size(self) == 1",message="networkIds: '*' cannot be mixed with ids"
	// +required
	NetworkIDs []string `json:"networkIds"`

	// deviceTypeIds the token may reach: numeric ids, or ["*"] for every device type.
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=19
	// +kubebuilder:validation:items:Pattern=`^([0-9]+|\*)$`
	// +kubebuilder:validation:XValidation:rule="!('*' in self) || size(self) == 1",message="deviceTypeIds: '*' cannot be mixed with ids"
	// +required
	DeviceTypeIDs []string `json:"deviceTypeIds"`

	// accessTokenLifetime is how long each access token is valid.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="accessTokenLifetime must be at least 1m"
	// +kubebuilder:default="30m"
	// +optional
	AccessTokenLifetime metav1.Duration `json:"accessTokenLifetime,omitempty"`

	// refreshTokenLifetime is how long each refresh token is valid.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="refreshTokenLifetime must be at least 1m"
	// +kubebuilder:default="168h"
	// +optional
	RefreshTokenLifetime metav1.Duration `json:"refreshTokenLifetime,omitempty"`

	// rotation says when a new pair is minted; by default when a third of the access
	// token's lifetime is left.
	// +optional
	Rotation *Rotation `json:"rotation,omitempty"`

	// consumers says which workloads reading the Secret are restarted when it
	// changes, and how long the previous token waits for them.
	// +optional
	Consumers *Consumers `json:"consumers,omitempty"`

	// secret is where the pair is written, under accessToken, refreshToken,
	// accessTokenExpiresAt and refreshTokenExpiresAt.
	// +required
	Secret SecretTemplate `json:"secret"`
}

// DeviceAccessTokenStatus is the observed state of a DeviceAccessToken. It never
// holds a token value.
type DeviceAccessTokenStatus struct {
	TokenStatus `json:",inline"`

	// refreshTokenExpiresAt is when the current refresh token expires.
	// +optional
	RefreshTokenExpiresAt *metav1.Time `json:"refreshTokenExpiresAt,omitempty"`

	// mintedBy is how the current pair was minted: a new URL, mode or signing key
	// mints a new pair at once.
	// +optional
	MintedBy *DeviceHiveMinter `json:"mintedBy,omitempty"`
}

// DeviceHiveMinter is how a pair was minted.
type DeviceHiveMinter struct {
	// url is the issuer's deviceHive.url then.
	// +required
	URL string `json:"url"`

	// mode is Offline or API.
	// +required
	Mode DeviceHiveMode `json:"mode"`

	// signingKeyVersion is the resourceVersion of the signing key Secret an
	// Offline pair was signed with (never the key).
	// +optional
	SigningKeyVersion string `json:"signingKeyVersion,omitempty"`
}

// DeviceAccessToken keeps a DeviceHive JWT access and refresh token pair alive in a
// Secret, with exactly the rights it lists.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dat,categories=tokenoperator
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.spec.secret.name`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Renews",type=string,JSONPath=`.status.renewalTime`
// +kubebuilder:printcolumn:name="Actions",type=string,JSONPath=`.spec.actions`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type DeviceAccessToken struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the token pair the user wants.
	// +required
	Spec DeviceAccessTokenSpec `json:"spec"`

	// status is the observed state; it never holds a token value.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status DeviceAccessTokenStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *DeviceAccessToken) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *DeviceAccessToken) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// SetObservedGeneration records the generation reconciled to an outcome.
func (in *DeviceAccessToken) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetTokenStatus returns the status every token kind shares.
func (in *DeviceAccessToken) GetTokenStatus() *TokenStatus { return &in.Status.TokenStatus }

// GetIssuerRef returns the issuer that mints the token.
func (in *DeviceAccessToken) GetIssuerRef() IssuerRef { return in.Spec.IssuerRef }

// GetRotation returns when the token is replaced; nil means the defaults.
func (in *DeviceAccessToken) GetRotation() *Rotation { return in.Spec.Rotation }

// GetConsumers returns what happens to the Secret's consumers; nil means the defaults.
func (in *DeviceAccessToken) GetConsumers() *Consumers { return in.Spec.Consumers }

// GetSecretTemplate returns the Secret the token is written to.
func (in *DeviceAccessToken) GetSecretTemplate() SecretTemplate { return in.Spec.Secret }

// DeviceAccessTokenList is a list of DeviceAccessTokens.
// +kubebuilder:object:root=true
type DeviceAccessTokenList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DeviceAccessToken `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DeviceAccessToken{}, &DeviceAccessTokenList{})
}
