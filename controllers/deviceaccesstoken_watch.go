package controllers

import (
	"context"

	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokensUsingIssuerSecret lists the DeviceAccessTokens whose issuer reads a Secret
// (credentials or signing key): a TokenIssuer's in its namespace, a
// ClusterTokenIssuer's in the operator's.
func (r *DeviceAccessTokenReconciler) tokensUsingIssuerSecret(ctx context.Context, namespace, name string) []ctrlreconcile.Request {
	var requests []ctrlreconcile.Request
	for _, ref := range issuersNamingSecret(ctx, r.Client, r.OperatorNamespace, namespace, name) {
		requests = append(requests, tokensOfIssuer(ctx, r.Client, &tokensv1alpha1.DeviceAccessTokenList{}, ref.Kind, namespace, ref.Name)...)
	}
	return requests
}
