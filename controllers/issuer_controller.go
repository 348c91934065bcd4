package controllers

import (
	"context"
	"errors"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

const (
	// TokenIssuerControllerName names the TokenIssuer controller, its field owner and its events.
	TokenIssuerControllerName = "tokenissuer-controller"
	// ClusterTokenIssuerControllerName names the ClusterTokenIssuer controller.
	ClusterTokenIssuerControllerName = "clustertokenissuer-controller"
	// DefaultIssuerCheckInterval is how often a healthy issuer is checked again.
	DefaultIssuerCheckInterval = 10 * time.Minute
)

// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers;clustertokenissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers/status;clustertokenissuers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// IssuerReconciler checks that TokenIssuers and ClusterTokenIssuers can mint:
// their configuration, the Secrets they name and, where that costs no token,
// their remote system. It records the outcome in their status, which tokens read
// before they call the remote system.
type IssuerReconciler struct {
	TokenDeps
	// OperatorNamespace holds the Secrets that ClusterTokenIssuers name.
	OperatorNamespace string
	// CheckInterval is how often a healthy issuer is checked again.
	CheckInterval time.Duration
	// Shard selects, by their labels, the issuers this operator checks, as it
	// selects the tokens it reconciles; nil: every issuer. Tokens read every
	// issuer's status, whichever shard checked it.
	Shard labels.Selector
}

// issuerObject is an issuer of either kind.
type issuerObject interface {
	reconcile.Object
	GetIssuerSpec() tokensv1alpha1.TokenIssuerSpec
	GetIssuerStatus() *tokensv1alpha1.TokenIssuerStatus
}

// issuerController runs the check for one issuer kind.
type issuerController[T issuerObject] struct {
	r         *IssuerReconciler
	kind      tokensv1alpha1.IssuerKind
	name      string
	newObject func() T
}

// SetupWithManager registers a controller for each issuer kind. An issuer is
// checked when its spec changes (its own status writes do not wake it), when its
// labels do (it may have moved into this shard), when a Secret it names changes,
// and every CheckInterval.
func (r *IssuerReconciler) SetupWithManager(mgr ctrl.Manager, credentials cache.Cache) error {
	if r.CheckInterval <= 0 {
		r.CheckInterval = DefaultIssuerCheckInterval
	}
	if err := r.tokenIssuers().setup(mgr, credentials); err != nil {
		return err
	}
	return r.clusterTokenIssuers().setup(mgr, credentials)
}

// tokenIssuers checks TokenIssuers.
func (r *IssuerReconciler) tokenIssuers() issuerController[*tokensv1alpha1.TokenIssuer] {
	return issuerController[*tokensv1alpha1.TokenIssuer]{r, tokensv1alpha1.TokenIssuerKind, TokenIssuerControllerName,
		func() *tokensv1alpha1.TokenIssuer { return &tokensv1alpha1.TokenIssuer{} }}
}

// clusterTokenIssuers checks ClusterTokenIssuers.
func (r *IssuerReconciler) clusterTokenIssuers() issuerController[*tokensv1alpha1.ClusterTokenIssuer] {
	return issuerController[*tokensv1alpha1.ClusterTokenIssuer]{r, tokensv1alpha1.ClusterTokenIssuerKind, ClusterTokenIssuerControllerName,
		func() *tokensv1alpha1.ClusterTokenIssuer { return &tokensv1alpha1.ClusterTokenIssuer{} }}
}

func (c issuerController[T]) setup(mgr ctrl.Manager, credentials cache.Cache) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named(c.name).
		For(c.newObject(), builder.WithPredicates(
			predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}),
			predicate.NewPredicateFuncs(c.r.inShard))).
		WatchesRawSource(credentialsSource(credentials, c.issuersOfSecret)).
		Complete(c)
}

// Reconcile checks one issuer and records the outcome in one status patch.
func (c issuerController[T]) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := c.newObject()
	if err := c.r.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() || !c.r.inShard(obj) {
		// An issuer that has left this shard is checked by the one it joined.
		return ctrl.Result{}, nil
	}
	patcher := reconcile.NewStatusPatcher(c.r.Client, c.name, obj)
	var ready string
	defer func() {
		result, retErr = finishReconcile(ctx, obj, patcher, c.r.Recorder, c.r.Clock,
			outcome{err: retErr, ready: ready, requeue: c.r.CheckInterval})
	}()
	issuer := resolvedIssuer{ref: tokensv1alpha1.IssuerRef{Kind: c.kind, Name: obj.GetName()}, spec: obj.GetIssuerSpec()}
	var err error
	ready, err = c.r.check(ctx, issuer, obj.GetNamespace(), obj.GetIssuerStatus())
	// A stalled issuer is looked at again at the next check too: the remote system
	// may have been fixed (a DeviceHive deployed behind an ingress that answered 404).
	// A new error: the one found may be shared with tokens reading the same
	// Secret.
	var stalled *reconcile.Stalling
	if errors.As(err, &stalled) && stalled.RetryAfter == 0 {
		err = reconcile.StallAndRetry(stalled.Reason, c.r.CheckInterval, err)
	}
	return ctrl.Result{}, err
}

// inShard tells whether this operator checks the issuer obj.
func (r *IssuerReconciler) inShard(obj client.Object) bool {
	return r.Shard == nil || r.Shard.Matches(labels.Set(obj.GetLabels()))
}
