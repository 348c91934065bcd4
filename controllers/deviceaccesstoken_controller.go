package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// DeviceAccessTokenControllerName names the controller, its field owner and its events.
const DeviceAccessTokenControllerName = "deviceaccesstoken-controller"

// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens,verbs=get;list;watch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=deviceaccesstokens/finalizers,verbs=update
// +kubebuilder:rbac:groups=tokens.tokenoperator.io,resources=tokenissuers;clustertokenissuers,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete

// DeviceAccessTokenReconciler keeps a DeviceHive access and refresh token pair alive
// in a Secret. DeviceHive cannot revoke a token, so there is no finalizer: the
// Secret goes with its owner, and a replaced pair lives until it expires.
type DeviceAccessTokenReconciler struct {
	client.Client
	// APIReader reads what the cache does not hold: the issuer's Secrets and
	// Secrets the operator does not own.
	APIReader     client.Reader
	Recorder      events.EventRecorder
	Clock         clock.PassiveClock
	RemoteTimeout time.Duration
	// OperatorNamespace holds the Secrets that ClusterTokenIssuers name; a
	// TokenIssuer's Secrets live in its own namespace.
	OperatorNamespace string
}

// deviceAccessTokenState is what the steps of one reconcile share.
type deviceAccessTokenState struct {
	patcher *reconcile.StatusPatcher
	issuer  resolvedIssuer
	secret  *corev1.Secret  // the Secret at spec.secret.name, nil when absent
	pair    *heldDevicePair // the pair that Secret holds, nil when none of ours
	maxAge  time.Duration   // from spec.rotation.maxAge; zero means none
	minted  bool            // this reconcile wrote a new pair
	ready   string          // the Ready message on success
	requeue time.Duration
}

// deviceAccessTokenStep is one step of the lifecycle; the first error stops it.
type deviceAccessTokenStep func(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) error

// Reconcile loads a DeviceAccessToken, runs its lifecycle, and records the outcome
// in one status patch.
func (r *DeviceAccessTokenReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	dat := &tokensv1alpha1.DeviceAccessToken{}
	if err := r.Get(ctx, req.NamespacedName, dat); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !dat.DeletionTimestamp.IsZero() {
		// Nothing can be revoked; garbage collection deletes the Secret.
		return ctrl.Result{}, nil
	}
	st := &deviceAccessTokenState{patcher: reconcile.NewStatusPatcher(r.Client, DeviceAccessTokenControllerName, dat)}

	defer func() {
		result, retErr = finishReconcile(ctx, dat, st.patcher, r.Recorder, r.Clock,
			outcome{err: retErr, ready: st.ready, requeue: st.requeue})
	}()

	steps := []deviceAccessTokenStep{r.reconcileIssuer, r.loadSecret, r.reconcileToken, r.reconcileSecret}
	for _, step := range steps {
		if err := step(ctx, dat, st); err != nil {
			var stalled *reconcile.Stalling
			if errors.As(err, &stalled) {
				// Stalled: nothing is being minted until the user acts.
				reconcile.Delete(dat, tokensv1alpha1.IssuingCondition)
			}
			return ctrl.Result{}, err
		}
	}
	r.schedule(dat, st)
	return ctrl.Result{}, nil
}

// reconcileIssuer resolves the issuer and refuses, before any remote call or
// signature, a token its policy does not allow or whose rights DeviceHive would
// widen. Stalls with IssuerMismatch or PolicyViolation; waits while the issuer is
// missing.
func (r *DeviceAccessTokenReconciler) reconcileIssuer(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) error {
	issuer, err := resolveIssuer(ctx, r.Client, dat.Namespace, dat.Spec.IssuerRef)
	if err != nil {
		return err
	}
	st.issuer = issuer
	if issuer.spec.DeviceHive == nil {
		return reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s has no deviceHive block: a DeviceAccessToken needs a DeviceHive issuer", issuer))
	}
	if err := checkDeviceAccessTokenPolicy(dat, issuer); err != nil {
		return reconcile.Stall(tokensv1alpha1.PolicyViolationReason, err)
	}
	st.maxAge = schedule.EffectiveMaxAge(dat.Spec.Rotation, nil)
	return nil
}

// loadSecret reads the Secret at spec.secret.name from the cache and the pair it
// holds, if it is one this token wrote.
func (r *DeviceAccessTokenReconciler) loadSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) error {
	secret := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKey{Namespace: dat.Namespace, Name: dat.Spec.Secret.Name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		st.secret, st.pair = nil, nil
	case err != nil:
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", dat.Spec.Secret.Name, err))
	default:
		st.secret, st.pair = secret, heldPair(secret)
	}
	return nil
}

// reconcileToken mints a new pair when a trigger of the policy chain hits. Sets
// Issuing while a mint is under way; removes it when none is due.
func (r *DeviceAccessTokenReconciler) reconcileToken(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) error {
	in := deviceAccessTokenInput{token: dat, secret: st.secret, pair: st.pair, now: r.Clock.Now(), maxAge: st.maxAge}
	reason, message, hit := deviceAccessTokenMintReason(in)
	if !hit {
		reconcile.Delete(dat, tokensv1alpha1.IssuingCondition)
		return nil
	}
	return r.mint(ctx, dat, st, reason, message)
}

// reconcileSecret rewrites the Secret when its labels, annotations or expiry keys
// no longer match the spec, from the pair it holds. It writes nothing otherwise,
// nor after a mint, which has just written it.
func (r *DeviceAccessTokenReconciler) reconcileSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) error {
	if st.minted || st.pair == nil {
		return nil
	}
	return r.secrets().write(ctx, dat, desiredDeviceAccessTokenSecret(dat, st.pair.access, st.pair.refresh,
		dat.Status.ExpiresAt.Time, dat.Status.RefreshTokenExpiresAt.Time))
}

// schedule records the renewal time and when to look again: at the renewal, and
// at least once a day.
func (r *DeviceAccessTokenReconciler) schedule(dat *tokensv1alpha1.DeviceAccessToken, st *deviceAccessTokenState) {
	var renews string
	st.requeue, renews = scheduleRenewal(dat.GetTokenStatus(), deviceAccessTokenRenewalTime(dat, st.maxAge), r.Clock.Now())
	st.ready = fmt.Sprintf("pair %d for DeviceHive user %d is in Secret %q, access token expires at %s",
		dat.Status.Revision, dat.Spec.UserID, dat.Spec.Secret.Name, dat.Status.ExpiresAt.UTC().Format(time.RFC3339)) + renews
}

// SetupWithManager registers the controller (see tokenController); the
// credentials Secrets it watches are those its issuers name.
func (r *DeviceAccessTokenReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int, credentials cache.Cache) error {
	return tokenController{
		name:  DeviceAccessTokenControllerName,
		token: &tokensv1alpha1.DeviceAccessToken{},
		list:  &tokensv1alpha1.DeviceAccessTokenList{},
		issuerRef: func(o client.Object) tokensv1alpha1.IssuerRef {
			return o.(*tokensv1alpha1.DeviceAccessToken).Spec.IssuerRef
		},
		credentials: credentialsSource(credentials, r.tokensUsingIssuerSecret),
		concurrency: concurrency,
	}.setup(mgr, r)
}

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
