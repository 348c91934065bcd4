package controllers

import (
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokensUsingCredentials lists the PersonalTokens that read a credentials Secret.
func (r *PersonalTokenReconciler) tokensUsingCredentials(ctx context.Context, namespace, name string) []ctrlreconcile.Request {
	var tokens tokensv1alpha1.PersonalTokenList
	if err := r.List(ctx, &tokens, client.InNamespace(namespace), client.MatchingFields{credentialsRefIndex: name}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the PersonalTokens of a credentials Secret", "secret", name)
		return nil
	}
	requests := make([]ctrlreconcile.Request, 0, len(tokens.Items))
	for _, pt := range tokens.Items {
		requests = append(requests, ctrlreconcile.Request{NamespacedName: client.ObjectKeyFromObject(&pt)})
	}
	return requests
}
