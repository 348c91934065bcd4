package controllers

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/metrics"
)

// recordMetrics sets the token's series from its status as just patched, or
// removes them once nothing holds the token any more.
func (l lifecycle[T, M]) recordMetrics(obj T, finalizerName string) {
	if !obj.GetDeletionTimestamp().IsZero() && (finalizerName == "" || !controllerutil.ContainsFinalizer(obj, finalizerName)) {
		metrics.ForgetToken(l.kindName, obj.GetNamespace(), obj.GetName())
		return
	}
	status := obj.GetTokenStatus()
	ref := obj.GetIssuerRef()
	t := metrics.Token{Kind: l.kindName, Namespace: obj.GetNamespace(), Name: obj.GetName(),
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
	if r, ok := l.kind.(revoker[T]); ok {
		t.PreviousPending, t.RevocationDue = r.pendingRevocations(obj)
	}
	metrics.RecordToken(t)
}
