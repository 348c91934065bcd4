package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// TokenDeps are what every token reconciler is given.
type TokenDeps struct {
	client.Client
	// APIReader reads what the cache does not hold: Secrets the operator does not
	// own, and objects that must be read as the API server has them now.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Clock     clock.PassiveClock
	// RemoteTimeout bounds each call to a remote system.
	RemoteTimeout time.Duration
	// Consumers say how the workloads reading a token's Secret are brought to
	// its new content.
	Consumers ConsumerSettings
	// Budget bounds the reconciles talking to one issuer at once; nil: no bound.
	Budget *RemoteBudget
	// ShardLabels are the label keys a token's Secret carries as the token does,
	// so that the shard that selects a token selects its Secret too.
	ShardLabels []string
}

// lifecycle drives one token of any kind through its life, one reconcile at a
// time: load → resolve the issuer and check its policy → load the Secret →
// recover an interrupted mint → evaluate the rotation chain, then mint or update
// in place → keep the Secret as the spec says → bring its consumers to its
// content → revoke what is due → schedule the renewal. The outcome is recorded in one status patch.
type lifecycle[T tokenObject, M any] struct {
	TokenDeps
	controller string // the controller's name: field owner of its writes
	kindName   string // the token kind, in messages
	kind       tokenKind[T, M]
}

// reconcile runs the lifecycle for the token req names.
func (l lifecycle[T, M]) reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	obj := l.kind.newObject()
	if err := l.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	fin, finalizes := l.kind.(finalizer[T])
	if !obj.GetDeletionTimestamp().IsZero() && !finalizes {
		// Nothing to clean up: garbage collection deletes the Secret.
		return ctrl.Result{}, nil
	}
	st := &tokenState{
		patcher: reconcile.NewStatusPatcher(l.Client, l.controller, obj),
		secrets: secretWriter{client: l.Client, reader: l.APIReader, fieldOwner: l.controller, kind: l.kindName, shardLabels: l.ShardLabels},
	}
	defer func() {
		result, retErr = finishReconcile(ctx, obj, st.patcher, l.Recorder, l.Clock,
			outcome{err: retErr, ready: st.ready, requeue: st.requeue})
		l.announceCommit(obj, st)
	}()

	if !obj.GetDeletionTimestamp().IsZero() {
		return ctrl.Result{}, l.reconcileDelete(ctx, obj, st, fin)
	}
	if finalizes {
		if err := l.addFinalizer(ctx, obj, st, fin.finalizerName()); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, l.run(ctx, obj, st)
}

// run runs the steps in order; the first error stops them.
func (l lifecycle[T, M]) run(ctx context.Context, obj T, st *tokenState) error {
	steps := []tokenStep[T]{l.loadIssuer, l.loadSecret, l.recoverMint, l.reconcileToken, l.reconcileSecret, l.reconcileConsumers, l.revokeDue, l.scheduleRenewal}
	for _, step := range steps {
		if err := step(ctx, obj, st); err != nil {
			var stalled *reconcile.Stalling
			if !errors.As(err, &stalled) {
				return err
			}
			if !l.mintInterrupted(obj) {
				// Nothing is being minted until the user acts.
				reconcile.Delete(obj, tokensv1alpha1.IssuingCondition)
			}
			return l.keepUpWhileStalled(ctx, obj, st, err, stalled)
		}
	}
	return st.deferredErr
}

// keepUpWhileStalled does, for a token whose minting side stalled, what does not
// wait for the user: replaced tokens whose time has come are still revoked (by
// the consumers' state as last recorded, if it is that of what the Secret holds
// now), and the token is looked at again at its next revocation or renewal at
// the latest: err, which stalled is in, wrapped with that time. stalled is not
// changed, as tokens sharing a Secret share the errors of reading it.
func (l lifecycle[T, M]) keepUpWhileStalled(ctx context.Context, obj T, st *tokenState, err error, stalled *reconcile.Stalling) error {
	status := obj.GetTokenStatus()
	if r, revokes := l.kind.(revoker[T]); revokes && !st.revokeTried && st.issuer.block() == l.kind.issuerBlock() {
		// Consumers recorded for other content (a recovered mint committed, and a
		// step stopped before they were looked at) have not moved on to this one.
		st.consumersSettled = status.SecretVersion != "" && status.SecretVersion == l.heldVersion(ctx, obj, st) &&
			!slices.ContainsFunc(status.Consumers, func(c tokensv1alpha1.ConsumerStatus) bool { return !c.RolledOut })
		next, err := r.revokeReplacedDue(ctx, obj, st)
		if err != nil {
			ctrl.LoggerFrom(ctx).Info("Could not revoke the replaced tokens of a stalled token; trying again", "error", err.Error())
			next = stalledRevokeRetry
		}
		st.nextRevoke = next
	}
	// A renewal already due waits for the user like the mint does: it is no
	// reason to look again at once.
	at, renewal := schedule.Renewal(status, obj.GetRotation(), st.maxAge, string(obj.GetUID()), l.Clock.Now())
	if !at.After(l.Clock.Now()) {
		renewal = 0
	}
	return reconcile.StallAndRetry(stalled.Reason, reconcile.LowestRequeue(stalled.RetryAfter, reconcile.LowestRequeue(renewal, st.nextRevoke)), err)
}

// heldVersion is the version of what the Secret holds now: as this reconcile
// wrote or kept it, else as the cache has it, or the API server when the cache
// does not hold it (it may carry the label of the shard the token came from); ""
// when there is none.
func (l lifecycle[T, M]) heldVersion(ctx context.Context, obj T, st *tokenState) string {
	if st.heldData != nil {
		return secretVersion(st.heldData)
	}
	secret, err := st.secrets.find(ctx, obj, obj.GetSecretTemplate().Name)
	if err != nil || secret == nil {
		return ""
	}
	return secretVersion(secret.Data)
}

// stalledRevokeRetry is when a stalled token's failed revocation is tried again.
const stalledRevokeRetry = time.Minute

// loadIssuer resolves the issuer and refuses, before any remote call, a token
// it cannot or may not mint. Stalls with IssuerMismatch, PolicyViolation or
// NamespaceNotAllowed; waits while the issuer is missing. Whether the issuer is
// Ready matters only where a remote call is due (mint, and the kinds' remote
// sessions): a healthy token stays Ready through a failed issuer check.
func (l lifecycle[T, M]) loadIssuer(ctx context.Context, obj T, st *tokenState) error {
	issuer, err := resolveIssuer(ctx, l.Client, obj.GetNamespace(), obj.GetIssuerRef())
	if err != nil {
		return err
	}
	st.issuer = issuer
	if block := l.kind.issuerBlock(); issuer.block() != block {
		return reconcile.Stall(tokensv1alpha1.IssuerMismatchReason,
			fmt.Errorf("%s has no %s block: a %s needs %s issuer", issuer, block, l.kindName, issuerSystems[block]))
	}
	var policyMaxAge *time.Duration
	if p := issuer.policy(); p.MaxAge != nil {
		policyMaxAge = &p.MaxAge.Duration
	}
	st.maxAge = schedule.EffectiveMaxAge(obj.GetRotation(), policyMaxAge)
	if err := l.kind.checkPolicy(obj, issuer); err != nil {
		return reconcile.Stall(tokensv1alpha1.PolicyViolationReason, err)
	}
	return nil
}

// loadSecret reads the Secret at spec.secret.name from the cache, or from the
// API server when the cache does not hold the Secret that status says holds the
// token: the cache may not have seen it yet, or it still carries the label of
// the shard the token came from (the Secret step relabels it); read there, one
// this token does not control counts as none.
func (l lifecycle[T, M]) loadSecret(ctx context.Context, obj T, st *tokenState) error {
	name := obj.GetSecretTemplate().Name
	secret, err := getSecret(ctx, l.Client, obj.GetNamespace(), name)
	if secret == nil && err == nil && obj.GetTokenStatus().SecretName == name {
		secret, err = st.secrets.uncached(ctx, obj, name)
	}
	st.secret = secret
	return err
}

// recoverMint finishes a mint that a crash or a lost reply interrupted, for the
// kinds that can find its token again: the token is committed when its Secret
// holds it, and otherwise the kind has removed it.
func (l lifecycle[T, M]) recoverMint(ctx context.Context, obj T, st *tokenState) error {
	recoverer, ok := l.kind.(mintRecoverer[T, M])
	if !ok || !recoverer.mintInterrupted(obj) {
		return nil
	}
	found, err := recoverer.recoverMint(ctx, obj, st)
	if err != nil || found == nil {
		return err
	}
	return l.commit(ctx, obj, st, found.token, found.secretName, issuingDecision(obj), found.rotateAt)
}

// mintInterrupted tells whether obj records a mint in flight.
func (l lifecycle[T, M]) mintInterrupted(obj T) bool {
	recoverer, ok := l.kind.(mintRecoverer[T, M])
	return ok && recoverer.mintInterrupted(obj)
}

// reconcileToken mints a new token when a trigger of the rotation chain hits, or
// else updates the current one in place where the kind can. Sets Issuing while a
// mint is under way; removes it when none is due.
func (l lifecycle[T, M]) reconcileToken(ctx context.Context, obj T, st *tokenState) error {
	in := l.kind.rotationInput(obj, st, l.Clock.Now())
	if why, hit := l.kind.rotationChain().Evaluate(in); hit {
		return l.mint(ctx, obj, st, why)
	}
	reconcile.Delete(obj, tokensv1alpha1.IssuingCondition)
	updater, ok := l.kind.(inPlaceUpdater[T])
	if !ok {
		return nil
	}
	remint, err := updater.updateInPlace(ctx, obj, st)
	if err != nil || remint == nil {
		return err
	}
	return l.mint(ctx, obj, st, *remint)
}

// reconcileSecret rewrites the Secret when its format, labels, annotations or
// derived keys no longer match the spec, from the token it holds. It writes
// nothing otherwise, nor after a mint, which has just written it.
func (l lifecycle[T, M]) reconcileSecret(ctx context.Context, obj T, st *tokenState) error {
	if st.secretWritten {
		return nil
	}
	desired := l.kind.keptSecret(obj, st)
	if desired == nil {
		return nil
	}
	if err := st.secrets.write(ctx, obj, desired, st.secret); err != nil {
		return err
	}
	st.heldData = desired.Data
	return nil
}

// revokeDue revokes the replaced tokens whose overlap has passed and whose
// consumers have moved on, for the kinds that can revoke.
func (l lifecycle[T, M]) revokeDue(ctx context.Context, obj T, st *tokenState) error {
	r, ok := l.kind.(revoker[T])
	if !ok {
		return nil
	}
	st.revokeTried = true
	next, err := r.revokeDue(ctx, obj, st)
	st.nextRevoke = next
	return err
}

// scheduleRenewal records the renewal time and when to look again: at the
// renewal, when the next replaced token is due for revocation, or when the
// consumers are due to be looked at.
func (l lifecycle[T, M]) scheduleRenewal(_ context.Context, obj T, st *tokenState) error {
	status := obj.GetTokenStatus()
	at, requeue := schedule.Renewal(status, obj.GetRotation(), st.maxAge, string(obj.GetUID()), l.Clock.Now())
	st.requeue = reconcile.LowestRequeue(reconcile.LowestRequeue(requeue, st.nextRevoke), st.nextConsumers)
	st.ready = l.kind.readyMessage(obj)
	status.RenewalTime = nil
	if !at.IsZero() {
		status.RenewalTime = &metav1.Time{Time: at}
		st.ready += ", renews at " + at.UTC().Format(time.RFC3339)
	}
	return nil
}

// addFinalizer adds the kind's finalizer and writes it at once, before anything
// is minted that deleting the token would have to revoke.
func (l lifecycle[T, M]) addFinalizer(ctx context.Context, obj T, st *tokenState, name string) error {
	if controllerutil.ContainsFinalizer(obj, name) {
		return nil
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.AddFinalizer(obj, name)
	if err := l.Client.Patch(ctx, obj, patch, client.FieldOwner(l.controller)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to add the finalizer: %w", err))
	}
	st.patcher.Rebase(obj)
	return nil
}

// reconcileDelete lets the kind clean up, then removes its finalizer so the
// deletion goes on.
func (l lifecycle[T, M]) reconcileDelete(ctx context.Context, obj T, st *tokenState, fin finalizer[T]) error {
	if !controllerutil.ContainsFinalizer(obj, fin.finalizerName()) {
		return nil
	}
	if err := fin.finalize(ctx, obj, st, l.recoverMint); err != nil {
		return err
	}
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	controllerutil.RemoveFinalizer(obj, fin.finalizerName())
	if err := l.Client.Patch(ctx, obj, patch, client.FieldOwner(l.controller)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to remove the finalizer: %w", err))
	}
	return nil
}
