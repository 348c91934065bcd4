package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/metrics"
)

// MetricsSource reads the tokens and issuers the per-object metrics show from
// reader, the manager's cache: a scrape costs no request to the API server.
func MetricsSource(reader client.Reader) metrics.Source {
	return func(ctx context.Context) ([]metrics.Token, []metrics.Issuer, error) {
		// The objects are only read, and there may be thousands: no copies.
		noCopy := client.UnsafeDisableDeepCopy
		pts := &tokensv1alpha1.PersonalTokenList{}
		if err := reader.List(ctx, pts, noCopy); err != nil {
			return nil, nil, err
		}
		dats := &tokensv1alpha1.DeviceAccessTokenList{}
		if err := reader.List(ctx, dats, noCopy); err != nil {
			return nil, nil, err
		}
		tokens := make([]metrics.Token, 0, len(pts.Items)+len(dats.Items))
		for i := range pts.Items {
			t := tokenMetrics(personalTokenKindName, &pts.Items[i])
			t.PreviousPending, t.RevocationDue = pendingRevocations(&pts.Items[i])
			tokens = append(tokens, t)
		}
		for i := range dats.Items {
			tokens = append(tokens, tokenMetrics(deviceAccessTokenKindName, &dats.Items[i]))
		}

		issuers := &tokensv1alpha1.TokenIssuerList{}
		if err := reader.List(ctx, issuers, noCopy); err != nil {
			return nil, nil, err
		}
		clusterIssuers := &tokensv1alpha1.ClusterTokenIssuerList{}
		if err := reader.List(ctx, clusterIssuers, noCopy); err != nil {
			return nil, nil, err
		}
		issuerMetrics := make([]metrics.Issuer, 0, len(issuers.Items)+len(clusterIssuers.Items))
		for i := range issuers.Items {
			issuerMetrics = append(issuerMetrics, metrics.Issuer{Kind: string(tokensv1alpha1.TokenIssuerKind),
				Namespace: issuers.Items[i].Namespace, Name: issuers.Items[i].Name, Ready: readyStatus(&issuers.Items[i])})
		}
		for i := range clusterIssuers.Items {
			issuerMetrics = append(issuerMetrics, metrics.Issuer{Kind: string(tokensv1alpha1.ClusterTokenIssuerKind),
				Name: clusterIssuers.Items[i].Name, Ready: readyStatus(&clusterIssuers.Items[i])})
		}
		return tokens, issuerMetrics, nil
	}
}

// tokenMetrics is what the metrics show of a token of kind, from its status.
func tokenMetrics(kind string, obj tokenObject) metrics.Token {
	status := obj.GetTokenStatus()
	ref := obj.GetIssuerRef()
	t := metrics.Token{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(),
		IssuerKind: string(ref.Kind), IssuerName: ref.Name}
	if status.ExpiresAt != nil {
		t.ExpiresAt = status.ExpiresAt.Time
	}
	if status.RenewalTime != nil {
		t.RenewalTime = status.RenewalTime.Time
	}
	if c := meta.FindStatusCondition(status.Conditions, tokensv1alpha1.ReadyCondition); c != nil {
		t.Ready = c.Status
	}
	return t
}
