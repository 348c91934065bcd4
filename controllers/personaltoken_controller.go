package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

const (
	// PersonalTokenControllerName names the controller, its field owner and its events.
	PersonalTokenControllerName = "personaltoken-controller"
	// PersonalTokenFinalizer holds a PersonalToken until its tokens are revoked.
	PersonalTokenFinalizer = "tokens.tokenoperator.io/finalizer"
	// personalTokenKindName is the kind in messages and metrics.
	personalTokenKindName = "PersonalToken"
)

// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens/finalizers,verbs=update
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers;clustertokenissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// PersonalTokenReconciler keeps an AWX personal access token alive in a Secret.
type PersonalTokenReconciler struct {
	TokenDeps
	// credentials spares the reads of a credentials Secret, and the questions to
	// AWX of whom it belongs to, that an earlier reconcile made of the same
	// version; nil until SetupWithManager.
	credentials *secretVersions[awxCredentials]
}

// Reconcile runs the token lifecycle (token_lifecycle.go) for a PersonalToken.
func (r *PersonalTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	return lifecycle[*tokensv1alpha1.PersonalToken, personalTokenMint]{r.TokenDeps, PersonalTokenControllerName, personalTokenKindName, &personalTokenKind{r: r}}.reconcile(ctx, req)
}

// credentialsRefIndex indexes PersonalTokens by the name of their credentials Secret.
const credentialsRefIndex = ".spec.credentialsSecretRef.name"

// SetupWithManager registers the controller (see tokenController); the
// credentials Secrets it watches are those its PersonalTokens name.
func (r *PersonalTokenReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int, credentials cache.Cache) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &tokensv1alpha1.PersonalToken{}, credentialsRefIndex,
		func(o client.Object) []string {
			return []string{o.(*tokensv1alpha1.PersonalToken).Spec.CredentialsSecretRef.Name}
		}); err != nil {
		return err
	}
	r.credentials = newSecretVersions[awxCredentials](credentials)
	return tokenController{PersonalTokenControllerName, &tokensv1alpha1.PersonalToken{}, &tokensv1alpha1.PersonalTokenList{},
		credentialsSource(credentials, r.tokensUsingCredentials), concurrency}.setup(mgr, r)
}
