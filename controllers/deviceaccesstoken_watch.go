package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokensUsingIssuerSecret lists the DeviceAccessTokens whose issuer reads a Secret
// (credentials or signing key): a TokenIssuer's in its namespace, a
// ClusterTokenIssuer's in the operator's.
func (r *DeviceAccessTokenReconciler) tokensUsingIssuerSecret(ctx context.Context, namespace, name string) []ctrlreconcile.Request {
	var requests []ctrlreconcile.Request
	var issuers tokensv1alpha1.TokenIssuerList
	if err := r.List(ctx, &issuers, client.InNamespace(namespace)); err == nil {
		for _, issuer := range issuers.Items {
			if namesDeviceHiveSecret(issuer.Spec, name) {
				requests = append(requests, tokensOfIssuer(ctx, r.Client, &tokensv1alpha1.DeviceAccessTokenList{},
					tokensv1alpha1.TokenIssuerKind, namespace, issuer.Name)...)
			}
		}
	}
	if namespace != r.OperatorNamespace {
		return requests
	}
	var clusterIssuers tokensv1alpha1.ClusterTokenIssuerList
	if err := r.List(ctx, &clusterIssuers); err == nil {
		for _, issuer := range clusterIssuers.Items {
			if namesDeviceHiveSecret(issuer.Spec, name) {
				requests = append(requests, tokensOfIssuer(ctx, r.Client, &tokensv1alpha1.DeviceAccessTokenList{},
					tokensv1alpha1.ClusterTokenIssuerKind, "", issuer.Name)...)
			}
		}
	}
	return requests
}
