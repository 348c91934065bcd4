package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokenController registers a token kind's controller, in the shape every kind
// shares. Its own writes do not wake it: not its status (generation, annotation
// and label predicates), nor the Secrets it creates (only the operator creates a
// Secret it controls); changes to its Secrets, its issuers, the credentials
// Secrets it reads, the rotate annotation and its labels (its Secret carries its
// shard labels) do. Failures talk to remote APIs, so they back off from a
// second to five minutes.
type tokenController struct {
	name        string
	token       tokenObject
	list        client.ObjectList
	credentials source.Source
	concurrency int
}

// failureBackoff is how failed reconciles of a token back off, from a second to
// five minutes: the controller's rate limiter, and the floor under a remote
// system's Retry-After (backOffRemoteWaits).
var failureBackoff = struct{ base, max time.Duration }{time.Second, 5 * time.Minute}

func (tc tokenController) setup(mgr ctrl.Manager, r ctrlreconcile.Reconciler) error {
	if err := indexIssuerRef(mgr, tc.token); err != nil {
		return err
	}
	issuerChanged := builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, issuerCheckChanged()))
	return ctrl.NewControllerManagedBy(mgr).
		Named(tc.name).
		For(tc.token, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		Owns(&corev1.Secret{}, builder.WithPredicates(predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }})).
		Watches(&tokensv1alpha1.TokenIssuer{}, tokensForIssuer(mgr.GetClient(), tc.list), issuerChanged).
		Watches(&tokensv1alpha1.ClusterTokenIssuer{}, tokensForIssuer(mgr.GetClient(), tc.list), issuerChanged).
		WatchesRawSource(tc.credentials).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: tc.concurrency,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[ctrlreconcile.Request](failureBackoff.base, failureBackoff.max),
		}).
		Complete(r)
}
