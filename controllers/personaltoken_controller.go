package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

const (
	// PersonalTokenControllerName names the controller, its field owner and its events.
	PersonalTokenControllerName = "personaltoken-controller"
	// PersonalTokenFinalizer holds a PersonalToken until its tokens are revoked.
	PersonalTokenFinalizer = "tokens.tokenoperator.io/finalizer"
)

// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=personaltokens/finalizers,verbs=update
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers;clustertokenissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// PersonalTokenReconciler keeps an AWX personal access token alive in a Secret.
type PersonalTokenReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold: Secrets the operator does not own.
	APIReader     client.Reader
	Recorder      events.EventRecorder
	Clock         clock.PassiveClock
	RemoteTimeout time.Duration
}

// personalTokenState is what the steps of one reconcile share.
type personalTokenState struct {
	patcher *reconcile.StatusPatcher
	issuer  resolvedIssuer
	secret  *corev1.Secret // the Secret at spec.secret.name, nil when absent
	maxAge  time.Duration
	session *remoteSession
	ready   string // the Ready message on success
	requeue time.Duration
}

// Reconcile loads a PersonalToken, runs its lifecycle, and records the outcome in
// one status patch.
func (r *PersonalTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	pt := &tokensv1alpha1.PersonalToken{}
	if err := r.Get(ctx, req.NamespacedName, pt); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	st := &personalTokenState{patcher: reconcile.NewStatusPatcher(r.Client, PersonalTokenControllerName, pt)}

	defer func() {
		result, retErr = finishReconcile(ctx, pt, st.patcher, r.Recorder, r.Clock,
			outcome{err: retErr, ready: st.ready, requeue: st.requeue})
	}()

	if !pt.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, pt, st)
	}
	if !controllerutil.ContainsFinalizer(pt, PersonalTokenFinalizer) {
		patch := client.MergeFrom(pt.DeepCopy())
		controllerutil.AddFinalizer(pt, PersonalTokenFinalizer)
		if err := r.Patch(ctx, pt, patch, client.FieldOwner(PersonalTokenControllerName)); err != nil {
			return ctrl.Result{}, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to add the finalizer: %w", err))
		}
		st.patcher.Rebase(pt)
	}
	return ctrl.Result{}, r.reconcile(ctx, pt, st)
}

// reconcile runs the lifecycle: load the issuer and check the policy, then drive the
// token (recover, mint, or update in place), keep the Secret as the spec says,
// and revoke replaced tokens whose overlap has passed.
func (r *PersonalTokenReconciler) reconcile(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	issuer, err := resolveIssuer(ctx, r.Client, pt.Namespace, pt.Spec.IssuerRef)
	if err != nil {
		return err
	}
	st.issuer = issuer
	if err := checkPersonalTokenPolicy(pt, issuer); err != nil {
		reason := tokensv1alpha1.PolicyViolationReason
		if issuer.spec.AWX == nil {
			reason = tokensv1alpha1.IssuerMismatchReason
		}
		return reconcile.Stall(reason, err)
	}
	var policyMaxAge *time.Duration
	if p := issuer.policy(); p.MaxAge != nil {
		policyMaxAge = &p.MaxAge.Duration
	}
	st.maxAge = schedule.EffectiveMaxAge(pt.Spec.Rotation, policyMaxAge)
	if err := r.loadSecret(ctx, pt, st); err != nil {
		return err
	}

	if err := r.reconcileToken(ctx, pt, st); err != nil {
		return err
	}
	if err := r.reconcileSecret(ctx, pt, st); err != nil {
		return err
	}
	next, err := r.revokeDue(ctx, pt, st)
	if err != nil {
		return err
	}
	r.schedule(pt, st, next)
	return nil
}

// loadSecret reads the Secret at spec.secret.name from the cache.
func (r *PersonalTokenReconciler) loadSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: pt.Spec.Secret.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		st.secret = nil
	case err != nil:
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", pt.Spec.Secret.Name, err))
	default:
		st.secret = secret
	}
	return nil
}

// reconcileToken finishes an interrupted mint, then mints when a trigger hits, or
// else updates the live token in place when its description or scopes changed.
func (r *PersonalTokenReconciler) reconcileToken(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	if pt.Status.PendingMint != nil {
		if err := r.recoverMint(ctx, pt, st); err != nil {
			return err
		}
	}
	in := personalTokenInput{token: pt, secret: st.secret, now: r.Clock.Now(), maxAge: st.maxAge}
	if reason, message, hit := mintReason(in); hit {
		return r.mint(ctx, pt, st, reason, message)
	}
	if description, scopes, update := wantUpdate(pt); update {
		return r.updateInPlace(ctx, pt, st, description, scopes)
	}
	return nil
}

// reconcileSecret rewrites the Secret when its format, labels or annotations no
// longer match the spec, from the value it holds. It writes nothing otherwise.
func (r *PersonalTokenReconciler) reconcileSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *personalTokenState) error {
	value, held := heldValue(st.secret, pt.Status.TokenID)
	if !held {
		return nil
	}
	return r.secrets().write(ctx, pt, desiredPersonalTokenSecret(pt, st.issuer.spec.AWX.URL, pt.Status.TokenID, value))
}

// schedule records the renewal time and when to look again: at the renewal, or
// when the next replaced token is due for revocation.
func (r *PersonalTokenReconciler) schedule(pt *tokensv1alpha1.PersonalToken, st *personalTokenState, nextRevocation time.Duration) {
	requeue, renews := scheduleRenewal(pt.GetTokenStatus(), personalTokenRenewalTime(pt, st.maxAge), r.Clock.Now())
	st.requeue = reconcile.LowestRequeue(requeue, nextRevocation)
	st.ready = fmt.Sprintf("token %d of AWX user %q is in Secret %q", pt.Status.TokenID, pt.Status.User, pt.Spec.Secret.Name) + renews
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
	return tokenController{
		name:  PersonalTokenControllerName,
		token: &tokensv1alpha1.PersonalToken{},
		list:  &tokensv1alpha1.PersonalTokenList{},
		issuerRef: func(o client.Object) tokensv1alpha1.IssuerRef {
			return o.(*tokensv1alpha1.PersonalToken).Spec.IssuerRef
		},
		credentials: credentialsSource(credentials, r.tokensUsingCredentials),
		concurrency: concurrency,
	}.setup(mgr, r)
}

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
