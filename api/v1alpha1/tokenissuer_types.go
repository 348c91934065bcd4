package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AWXAPI selects which AWX token API an issuer talks to.
// +kubebuilder:validation:Enum=Auto;Controller;Gateway
type AWXAPI string

const (
	// AWXAPIAuto detects the API the server has: the AAP gateway if it answers,
	// otherwise the controller API.
	AWXAPIAuto AWXAPI = "Auto"
	// AWXAPIController is /api/v2/ (AWX up to 24.6.1, Tower, AAP up to 2.4), or
	// /api/controller/v2/ behind a gateway.
	AWXAPIController AWXAPI = "Controller"
	// AWXAPIGateway is the AAP 2.5+ platform gateway, /api/gateway/v1/.
	AWXAPIGateway AWXAPI = "Gateway"
)

// DeviceHiveMode selects how a DeviceHive issuer mints tokens.
// +kubebuilder:validation:Enum=API;Offline
type DeviceHiveMode string

const (
	// DeviceHiveModeAPI mints with POST {url}/token/create, authenticated with the
	// issuer's credentials (which must hold ManageToken).
	DeviceHiveModeAPI DeviceHiveMode = "API"
	// DeviceHiveModeOffline signs tokens locally with the server's JWT secret: no
	// remote call at all.
	DeviceHiveModeOffline DeviceHiveMode = "Offline"
)

// TLSConfig is how an issuer trusts the remote server.
// +kubebuilder:validation:XValidation:rule="!(has(self.caBundle) && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)",message="caBundle and insecureSkipTLSVerify are mutually exclusive: set at most one",fieldPath=.insecureSkipTLSVerify
type TLSConfig struct {
	// caBundle is a PEM bundle of the CAs that sign the server's certificate; the
	// system roots are used when it is empty.
	// +kubebuilder:validation:MaxLength=1048576
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`

	// insecureSkipTLSVerify turns off verification of the server's certificate.
	// For tests only: anyone on the path can read the tokens.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
}

// AWXIssuer mints AWX / Ansible Automation Platform personal access tokens.
// AWX mints a token only for the caller, so the credentials come from each
// PersonalToken, not from the issuer.
type AWXIssuer struct {
	// url is the base URL of AWX or of the AAP gateway, e.g. https://awx.example.com.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="url must be an http or https URL with a host, e.g. https://awx.example.com"
	// +required
	URL string `json:"url"`

	// api is the token API to use: Auto detects it, Controller is /api/v2/, Gateway
	// is the AAP 2.5+ gateway.
	// +kubebuilder:default=Auto
	// +optional
	API AWXAPI `json:"api,omitempty"`

	TLSConfig `json:",inline"`
}

// DeviceHiveIssuer mints DeviceHive JWT access and refresh token pairs.
// +kubebuilder:validation:XValidation:rule="self.mode != 'Offline' || has(self.signingKeySecretRef)",message="signingKeySecretRef is required when mode is Offline",fieldPath=.signingKeySecretRef
// +kubebuilder:validation:XValidation:rule="self.mode != 'API' || has(self.credentialsSecretRef)",message="credentialsSecretRef is required when mode is API",fieldPath=.credentialsSecretRef
type DeviceHiveIssuer struct {
	// url is the base URL of the DeviceHive auth REST API, e.g.
	// https://dh.example.com/auth/rest (or /dh/rest, /api/rest); /token is appended.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="url must be an http or https URL with a host, e.g. https://dh.example.com/auth/rest"
	// +required
	URL string `json:"url"`

	// mode is API (mint with /token/create using credentialsSecretRef) or Offline
	// (sign locally with signingKeySecretRef; no remote call).
	// +required
	Mode DeviceHiveMode `json:"mode"`

	// credentialsSecretRef names a Secret with either accessToken and refreshToken (a
	// JWT pair holding ManageToken) or login and password. Used in API mode.
	// +optional
	CredentialsSecretRef *LocalSecretRef `json:"credentialsSecretRef,omitempty"`

	// signingKeySecretRef names the Secret key that holds the server's JWT secret
	// (JWT_SECRET), exactly as configured on the server. Used in Offline mode.
	// +optional
	SigningKeySecretRef *SecretKeyRef `json:"signingKeySecretRef,omitempty"`

	TLSConfig `json:",inline"`
}

// IssuerPolicy limits what tokens of an issuer may ask for. A token that asks for
// more is refused before any remote call.
// +kubebuilder:validation:XValidation:rule="!has(self.allowedNetworkIds) || !('*' in self.allowedNetworkIds) || (has(self.allowWildcardNetworks) && self.allowWildcardNetworks)",message="allowedNetworkIds may hold '*' only with allowWildcardNetworks: true",fieldPath=.allowedNetworkIds
// +kubebuilder:validation:XValidation:rule="!has(self.allowedDeviceTypeIds) || !('*' in self.allowedDeviceTypeIds) || !has(self.allowWildcardDeviceTypes) || self.allowWildcardDeviceTypes",message="allowedDeviceTypeIds may not hold '*' when allowWildcardDeviceTypes is false",fieldPath=.allowedDeviceTypeIds
type IssuerPolicy struct {
	// allowedScopes are the AWX scopes a PersonalToken may ask for; all when empty.
	// +listType=set
	// +kubebuilder:validation:MaxItems=2
	// +optional
	AllowedScopes []PersonalTokenScope `json:"allowedScopes,omitempty"`

	// maxAge is the longest a PersonalToken may live: a token asking for a longer
	// rotation.maxAge is refused, and one that sets none is rotated at this age.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="maxAge must be at least 1m"
	// +optional
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`

	// allowedUsers are the AWX usernames a PersonalToken may be minted for: the
	// user its credentials belong to, asked of AWX (/me) before minting. All when
	// empty.
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=150
	// +optional
	AllowedUsers []string `json:"allowedUsers,omitempty"`

	// allowedActions are the DeviceHive actions a DeviceAccessToken may ask for.
	// When empty, every action but the privileged ones: ManageToken, ManagePlugin,
	// UpdateCurrentUser and the admin actions (ManageUser, ManageConfiguration,
	// ManageNetwork, ManageDeviceType) must be listed by name, as DeviceHive cannot
	// revoke a token.
	// +listType=set
	// +kubebuilder:validation:MaxItems=17
	// +optional
	AllowedActions []DeviceHiveAction `json:"allowedActions,omitempty"`

	// allowedUserIds are the DeviceHive user ids a DeviceAccessToken may act as
	// (spec.userId), as numeric strings; ["*"] allows any user. All when empty,
	// which a ClusterTokenIssuer for DeviceHive may not be: any namespace could
	// then mint a pair for any user, the administrator included.
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:Pattern=`^([1-9][0-9]{0,18}|\*)$`
	// +optional
	AllowedUserIDs []string `json:"allowedUserIds,omitempty"`

	// allowedNetworkIds are the DeviceHive network ids a DeviceAccessToken may list
	// in spec.networkIds, as numeric strings. All when empty. ["*"] in a token still
	// needs allowWildcardNetworks, and "*" may be listed here only with it.
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:Pattern=`^([1-9][0-9]{0,18}|\*)$`
	// +optional
	AllowedNetworkIDs []string `json:"allowedNetworkIds,omitempty"`

	// allowedDeviceTypeIds are the DeviceHive device type ids a DeviceAccessToken
	// may list in spec.deviceTypeIds, as numeric strings. All when empty. "*" may be
	// listed here only where allowWildcardDeviceTypes is not false.
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:Pattern=`^([1-9][0-9]{0,18}|\*)$`
	// +optional
	AllowedDeviceTypeIDs []string `json:"allowedDeviceTypeIds,omitempty"`

	// allowWildcardNetworks lets a DeviceAccessToken ask for networkIds ["*"] (every
	// network the user can reach). Unset means false.
	// +optional
	AllowWildcardNetworks *bool `json:"allowWildcardNetworks,omitempty"`

	// allowWildcardDeviceTypes lets a DeviceAccessToken ask for deviceTypeIds ["*"].
	// Device types only narrow access within the allowed networks, so unset means true.
	// +optional
	AllowWildcardDeviceTypes *bool `json:"allowWildcardDeviceTypes,omitempty"`

	// maxAccessTokenLifetime is the longest accessTokenLifetime a DeviceAccessToken
	// may ask for; 24h when unset.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="maxAccessTokenLifetime must be at least 1m"
	// +optional
	MaxAccessTokenLifetime *metav1.Duration `json:"maxAccessTokenLifetime,omitempty"`

	// maxRefreshTokenLifetime is the longest refreshTokenLifetime a DeviceAccessToken
	// may ask for; 720h (30 days) when unset.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="maxRefreshTokenLifetime must be at least 1m"
	// +optional
	MaxRefreshTokenLifetime *metav1.Duration `json:"maxRefreshTokenLifetime,omitempty"`

	// allowedNamespaces are the namespaces whose tokens may use a ClusterTokenIssuer;
	// all when empty. Not valid on a TokenIssuer, which serves its own namespace only.
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +optional
	AllowedNamespaces []string `json:"allowedNamespaces,omitempty"`

	// namespaceSelector selects, by their labels, the namespaces whose tokens may
	// use a ClusterTokenIssuer; with allowedNamespaces, a namespace must pass both.
	// All namespaces when both are unset. Not valid on a TokenIssuer.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
}

// TokenIssuerSpec says where tokens come from and what may be asked. Exactly one of
// awx and deviceHive is set.
// +kubebuilder:validation:XValidation:rule="has(self.awx) != has(self.deviceHive)",message="exactly one of awx or deviceHive must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.awx) || !has(self.policy) || !(has(self.policy.allowedActions) || has(self.policy.allowedUserIds) || has(self.policy.allowedNetworkIds) || has(self.policy.allowedDeviceTypeIds) || has(self.policy.allowWildcardNetworks) || has(self.policy.allowWildcardDeviceTypes) || has(self.policy.maxAccessTokenLifetime) || has(self.policy.maxRefreshTokenLifetime))",message="policy.allowedActions, allowedUserIds, allowedNetworkIds, allowedDeviceTypeIds, allowWildcardNetworks, allowWildcardDeviceTypes, maxAccessTokenLifetime and maxRefreshTokenLifetime apply to deviceHive issuers only",fieldPath=.policy
// +kubebuilder:validation:XValidation:rule="!has(self.deviceHive) || !has(self.policy) || !(has(self.policy.allowedScopes) || has(self.policy.maxAge) || has(self.policy.allowedUsers))",message="policy.allowedScopes, maxAge and allowedUsers apply to awx issuers only",fieldPath=.policy
type TokenIssuerSpec struct {
	// awx mints AWX / AAP personal access tokens.
	// +optional
	AWX *AWXIssuer `json:"awx,omitempty"`

	// deviceHive mints DeviceHive JWT access and refresh token pairs.
	// +optional
	DeviceHive *DeviceHiveIssuer `json:"deviceHive,omitempty"`

	// policy limits what the tokens of this issuer may ask for.
	// +optional
	Policy *IssuerPolicy `json:"policy,omitempty"`
}

// TokenIssuerStatus is the observed state of an issuer.
type TokenIssuerStatus struct {
	// observedGeneration is the generation last reconciled to an outcome.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True when the issuer's configuration, Secrets and remote
	// system were checked and it can mint; Reconciling and Stalled follow kstatus.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// awxAPI is the AWX token API the server serves, as checked (or, when
	// spec.awx.api is Auto, detected) by the issuer's last check; tokens use it
	// without detecting it again.
	// +optional
	AWXAPI AWXAPI `json:"awxAPI,omitempty"`
}

// TokenIssuer says where the tokens of its own namespace come from and what they may
// ask for.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tissuer,categories=tokenoperator
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.status.awxAPI`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.policy) || !has(self.spec.policy.allowedNamespaces)",message="spec.policy.allowedNamespaces is for ClusterTokenIssuer only: a TokenIssuer serves its own namespace",fieldPath=.spec.policy.allowedNamespaces
// +kubebuilder:validation:XValidation:rule="!has(self.spec.policy) || !has(self.spec.policy.namespaceSelector)",message="spec.policy.namespaceSelector is for ClusterTokenIssuer only: a TokenIssuer serves its own namespace",fieldPath=.spec.policy.namespaceSelector
type TokenIssuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where tokens come from and what may be asked.
	// +required
	Spec TokenIssuerSpec `json:"spec"`

	// status is the observed state of the issuer.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status TokenIssuerStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *TokenIssuer) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *TokenIssuer) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// SetObservedGeneration records the generation reconciled to an outcome.
func (in *TokenIssuer) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetIssuerSpec returns where tokens come from and what they may ask for.
func (in *TokenIssuer) GetIssuerSpec() TokenIssuerSpec { return in.Spec }

// GetIssuerStatus returns the observed state of the issuer.
func (in *TokenIssuer) GetIssuerStatus() *TokenIssuerStatus { return &in.Status }

// TokenIssuerList is a list of TokenIssuers.
// +kubebuilder:object:root=true
type TokenIssuerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TokenIssuer `json:"items"`
}

// ClusterTokenIssuer is a TokenIssuer for every namespace (or those its policy
// allows). The Secrets it names live in the operator's own namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=ctissuer,categories=tokenoperator
// +kubebuilder:validation:XValidation:rule="!has(self.spec.deviceHive) || (has(self.spec.policy) && has(self.spec.policy.allowedUserIds) && size(self.spec.policy.allowedUserIds) > 0)",message="a ClusterTokenIssuer for DeviceHive needs spec.policy.allowedUserIds: without it any namespace could mint a pair for any DeviceHive user, the administrator included",fieldPath=.spec.policy
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.status.awxAPI`,priority=1
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterTokenIssuer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says where tokens come from and what may be asked.
	// +required
	Spec TokenIssuerSpec `json:"spec"`

	// status is the observed state of the issuer.
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status TokenIssuerStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (in *ClusterTokenIssuer) GetConditions() []metav1.Condition { return in.Status.Conditions }

// SetConditions replaces the status conditions.
func (in *ClusterTokenIssuer) SetConditions(c []metav1.Condition) { in.Status.Conditions = c }

// SetObservedGeneration records the generation reconciled to an outcome.
func (in *ClusterTokenIssuer) SetObservedGeneration(g int64) { in.Status.ObservedGeneration = g }

// GetIssuerSpec returns where tokens come from and what they may ask for.
func (in *ClusterTokenIssuer) GetIssuerSpec() TokenIssuerSpec { return in.Spec }

// GetIssuerStatus returns the observed state of the issuer.
func (in *ClusterTokenIssuer) GetIssuerStatus() *TokenIssuerStatus { return &in.Status }

// ClusterTokenIssuerList is a list of ClusterTokenIssuers.
// +kubebuilder:object:root=true
type ClusterTokenIssuerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterTokenIssuer `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TokenIssuer{}, &TokenIssuerList{}, &ClusterTokenIssuer{}, &ClusterTokenIssuerList{})
}
