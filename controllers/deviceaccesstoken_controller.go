package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// DeviceAccessTokenControllerName names the controller, its field owner and its events.
const DeviceAccessTokenControllerName = "deviceaccesstoken-controller"

// deviceAccessTokenKindName is the kind in messages and metrics.
const deviceAccessTokenKindName = "DeviceAccessToken"

// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens/finalizers,verbs=update
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers;clustertokenissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// DeviceAccessTokenReconciler keeps a DeviceHive access and refresh token pair alive
// in a Secret. DeviceHive cannot revoke a token, so there is no finalizer: the
// Secret goes with its owner, and a replaced pair lives until it expires.
type DeviceAccessTokenReconciler struct {
	TokenDeps
	// OperatorNamespace holds the Secrets that ClusterTokenIssuers name; a
	// TokenIssuer's Secrets live in its own namespace.
	OperatorNamespace string
	// credentials caches the metadata of the issuers' Secrets (see
	// NewCredentialsCache): a changed signing key is seen without a read.
	credentials cache.Cache
	// signers spares the reads of a signing key Secret, and the key's
	// derivation, that an earlier reconcile made of the same version; nil until
	// SetupWithManager.
	signers *secretVersions[signingKey]
}

// Reconcile runs the token lifecycle (token_lifecycle.go) for a DeviceAccessToken.
func (r *DeviceAccessTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return lifecycle[*tokensv1alpha1.DeviceAccessToken, deviceTokenPair]{r.TokenDeps, DeviceAccessTokenControllerName, deviceAccessTokenKindName, &deviceAccessTokenKind{r: r}}.reconcile(ctx, req)
}

// SetupWithManager registers the controller (see tokenController); the
// credentials Secrets it watches are those its issuers name.
func (r *DeviceAccessTokenReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int, credentials cache.Cache) error {
	r.credentials = credentials
	r.signers = newSecretVersions[signingKey](credentials)
	return tokenController{DeviceAccessTokenControllerName, &tokensv1alpha1.DeviceAccessToken{}, &tokensv1alpha1.DeviceAccessTokenList{},
		credentialsSource(credentials, r.tokensUsingIssuerSecret), concurrency}.setup(mgr, r)
}
