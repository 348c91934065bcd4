package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// issuerRefIndex indexes tokens by the issuer they name, "<kind>/<name>", so that an
// issuer change wakes exactly its tokens.
const issuerRefIndex = ".spec.issuerRef"

func issuerRefKey(kind tokensv1alpha1.IssuerKind, name string) string {
	if kind == "" {
		kind = tokensv1alpha1.TokenIssuerKind
	}
	return string(kind) + "/" + name
}

// indexIssuerRef registers issuerRefIndex for a token kind.
func indexIssuerRef(mgr ctrl.Manager, token tokenObject) error {
	return mgr.GetFieldIndexer().IndexField(context.Background(), token, issuerRefIndex, func(o client.Object) []string {
		ref := o.(tokenObject).GetIssuerRef()
		return []string{issuerRefKey(ref.Kind, ref.Name)}
	})
}

// tokensForIssuer maps an issuer event to the tokens of one kind that name it. A
// TokenIssuer serves its own namespace; a ClusterTokenIssuer every namespace.
func tokensForIssuer(c client.Reader, list client.ObjectList) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, issuer client.Object) []ctrlreconcile.Request {
		kind := tokensv1alpha1.TokenIssuerKind
		if _, cluster := issuer.(*tokensv1alpha1.ClusterTokenIssuer); cluster {
			kind = tokensv1alpha1.ClusterTokenIssuerKind
		}
		return tokensOfIssuer(ctx, c, list, kind, issuer.GetNamespace(), issuer.GetName())
	})
}

// tokensOfIssuer lists the tokens of one kind that name an issuer.
func tokensOfIssuer(ctx context.Context, c client.Reader, list client.ObjectList, kind tokensv1alpha1.IssuerKind, namespace, name string) []ctrlreconcile.Request {
	key := issuerRefKey(kind, name)
	opts := []client.ListOption{client.MatchingFields{issuerRefIndex: key}}
	if kind == tokensv1alpha1.TokenIssuerKind {
		opts = append(opts, client.InNamespace(namespace))
	}
	tokens := list.DeepCopyObject().(client.ObjectList)
	if err := c.List(ctx, tokens, opts...); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list the tokens of an issuer", "issuer", key)
		return nil
	}
	var requests []ctrlreconcile.Request
	_ = meta.EachListItem(tokens, func(o runtime.Object) error {
		requests = append(requests, ctrlreconcile.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
		return nil
	})
	return requests
}

// namesDeviceHiveSecret tells whether an issuer reads the Secret name.
func namesDeviceHiveSecret(spec tokensv1alpha1.TokenIssuerSpec, name string) bool {
	dh := spec.DeviceHive
	return dh != nil && ((dh.CredentialsSecretRef != nil && dh.CredentialsSecretRef.Name == name) ||
		(dh.SigningKeySecretRef != nil && dh.SigningKeySecretRef.Name == name))
}

// issuersNamingSecret returns the issuers that read the Secret namespace/name
// (credentials or signing key): TokenIssuers in that namespace, and
// ClusterTokenIssuers when it is the operator's.
func issuersNamingSecret(ctx context.Context, c client.Reader, operatorNamespace, namespace, name string) []tokensv1alpha1.IssuerRef {
	var refs []tokensv1alpha1.IssuerRef
	collect := func(kind tokensv1alpha1.IssuerKind, list client.ObjectList, opts ...client.ListOption) {
		if err := c.List(ctx, list, opts...); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Failed to list the issuers of a Secret", "kind", kind, "secret", name)
			return
		}
		_ = meta.EachListItem(list, func(o runtime.Object) error {
			if issuer := o.(issuerObject); namesDeviceHiveSecret(issuer.GetIssuerSpec(), name) {
				refs = append(refs, tokensv1alpha1.IssuerRef{Kind: kind, Name: issuer.GetName()})
			}
			return nil
		})
	}
	collect(tokensv1alpha1.TokenIssuerKind, &tokensv1alpha1.TokenIssuerList{}, client.InNamespace(namespace))
	if namespace == operatorNamespace {
		collect(tokensv1alpha1.ClusterTokenIssuerKind, &tokensv1alpha1.ClusterTokenIssuerList{})
	}
	return refs
}

// issuersOfSecret wakes the issuers of this kind that read a changed Secret.
func (c issuerController[T]) issuersOfSecret(ctx context.Context, namespace, name string) []ctrlreconcile.Request {
	var requests []ctrlreconcile.Request
	for _, ref := range issuersNamingSecret(ctx, c.r.Client, c.r.OperatorNamespace, namespace, name) {
		if ref.Kind != c.kind {
			continue
		}
		key := client.ObjectKey{Namespace: namespace, Name: ref.Name}
		if ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind {
			key.Namespace = ""
		}
		requests = append(requests, ctrlreconcile.Request{NamespacedName: key})
	}
	return requests
}

// issuerCheckChanged passes an issuer update whose check outcome changed: it
// turned Ready or not, or detected another AWX API. Tokens wait for it.
func issuerCheckChanged() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		before, okBefore := e.ObjectOld.(issuerObject)
		after, okAfter := e.ObjectNew.(issuerObject)
		if !okBefore || !okAfter {
			return false
		}
		return readyStatus(before) != readyStatus(after) ||
			before.GetIssuerStatus().AWXAPI != after.GetIssuerStatus().AWXAPI
	}}
}

// readyStatus is the status of an issuer's Ready condition for its current spec
// (Unknown until a check of that spec has had an outcome).
func readyStatus(issuer issuerObject) metav1.ConditionStatus {
	if ready := currentReady(issuer.GetConditions(), issuer.GetGeneration()); ready != nil {
		return ready.Status
	}
	return metav1.ConditionUnknown
}

// currentReady is the Ready condition set for generation; nil when there is none
// yet for it.
func currentReady(conditions []metav1.Condition, generation int64) *metav1.Condition {
	ready := meta.FindStatusCondition(conditions, tokensv1alpha1.ReadyCondition)
	if ready == nil || ready.ObservedGeneration != generation {
		return nil
	}
	return ready
}
