package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// tokenObject is a token of any kind.
type tokenObject interface {
	reconcile.Object
	GetTokenStatus() *tokensv1alpha1.TokenStatus
	GetIssuerRef() tokensv1alpha1.IssuerRef
	GetRotation() *tokensv1alpha1.Rotation
	GetSecretTemplate() tokensv1alpha1.SecretTemplate
	GetConsumers() *tokensv1alpha1.Consumers
}

// tokenKind is what a kind of token plugs into the lifecycle (token_lifecycle.go).
// A value serves one reconcile, so it may keep what that reconcile learns, such
// as an authenticated remote session. M is the kind's newly minted token.
type tokenKind[T tokenObject, M any] interface {
	// newObject returns an empty object of the kind, to read into.
	newObject() T
	// issuerBlock names the block of an issuer that mints this kind.
	issuerBlock() string
	// checkPolicy refuses, before any remote call, a token that asks for more
	// than its issuer's policy allows; the message names the field.
	checkPolicy(obj T, issuer resolvedIssuer) error
	// rotationInput gathers what the rotation chain looks at.
	rotationInput(obj T, st *tokenState, now time.Time) rotation.Input
	// rotationChain is the kind's ordered list of triggers.
	rotationChain() rotation.Chain
	// mint makes a new token at the remote system, or signs one.
	mint(ctx context.Context, obj T, st *tokenState) (M, error)
	// secretFor is the Secret that holds a new token, as the spec wants it.
	secretFor(obj T, st *tokenState, minted M) *corev1.Secret
	// commit records a new token in obj's status, which the lifecycle then
	// writes, and says how to tell the user.
	commit(obj T, st *tokenState, minted M) mintEvent
	// keptSecret is the Secret as the spec wants it, rebuilt from the token it
	// holds; nil when it holds none of obj's.
	keptSecret(obj T, st *tokenState) *corev1.Secret
	// readyMessage says what is in place when all is well.
	readyMessage(obj T) string
}

// The steps below exist only for the kinds that have them; the lifecycle skips a
// step whose interface a kind does not implement.

// mintPreparer checks, before the intent to mint is recorded, what a mint needs
// (who the credentials belong to, say) and adds the kind's part of the intent to
// obj's status.
type mintPreparer[T tokenObject] interface {
	prepareMint(ctx context.Context, obj T, st *tokenState) error
}

// mintRecoverer finds again the token of a mint a crash or a lost reply
// interrupted: kinds whose remote system can list tokens.
type mintRecoverer[T tokenObject, M any] interface {
	// mintInterrupted tells whether status records a mint in flight.
	mintInterrupted(obj T) bool
	// recoverMint returns the token of the interrupted mint that its Secret holds,
	// for the lifecycle to commit; or nil, when it removed any such token and
	// dropped the intent.
	recoverMint(ctx context.Context, obj T, st *tokenState) (*recovered[M], error)
}

// recovered is the token of an interrupted mint, the Secret that holds it, and
// the rotate annotation's value when the mint was decided: one set since asks
// for a newer token than this one.
type recovered[M any] struct {
	token      M
	secretName string
	rotateAt   string
}

// inPlaceUpdater changes what the remote system can change without a new token.
// It returns a decision to mint when the current token turns out to be gone.
type inPlaceUpdater[T tokenObject] interface {
	updateInPlace(ctx context.Context, obj T, st *tokenState) (*rotation.Decision, error)
}

// revoker revokes replaced tokens once their overlap has passed, and returns how
// long until the next one is due: kinds whose remote system can revoke.
// revokeDue also does the kind's other remote upkeep; revokeReplacedDue, all a
// stalled token gets, revokes the replaced tokens only.
type revoker[T tokenObject] interface {
	revokeDue(ctx context.Context, obj T, st *tokenState) (next time.Duration, err error)
	revokeReplacedDue(ctx context.Context, obj T, st *tokenState) (next time.Duration, err error)
}

// finalizer holds a token being deleted until the kind has cleaned up at the
// remote system. finalize gets the lifecycle's own recovery step, to finish an
// interrupted mint first.
type finalizer[T tokenObject] interface {
	finalizerName() string
	finalize(ctx context.Context, obj T, st *tokenState, recoverMint tokenStep[T]) error
}

// tokenStep is one step of the lifecycle; the first error stops it.
type tokenStep[T tokenObject] func(ctx context.Context, obj T, st *tokenState) error

// tokenState is what the steps of one reconcile share.
type tokenState struct {
	patcher       *reconcile.StatusPatcher
	secrets       secretWriter
	issuer        resolvedIssuer
	maxAge        time.Duration  // effective: the token's, capped by the issuer's policy
	secret        *corev1.Secret // the Secret at spec.secret.name, nil when absent
	secretWritten bool           // this reconcile wrote a new token into it
	// heldData is the data the Secret holds for the current token, as written or
	// kept by this reconcile; nil when it holds none.
	heldData map[string][]byte
	// consumersSettled: the Secret's consumers no longer need its previous
	// content (they have moved on, or maxOverlap has passed).
	consumersSettled bool
	pendingConsumers []string      // those still holding the previous content: "Deployment/web"
	nextConsumers    time.Duration // until the consumers are looked at again
	// deferredErr is a failure of a step that does not stop the others (the
	// consumers'), returned once they have run.
	deferredErr error
	nextRevoke  time.Duration // until the next replaced token is due for revocation
	revokeTried bool          // the revocation step ran in this reconcile
	ready       string        // the Ready message on success
	requeue     time.Duration // when to look again on success
	committed   *committed    // the token this reconcile committed, to announce
}

// mintEvent tells the user about a committed token.
type mintEvent struct {
	first bool   // Issued, else Rotated
	note  string // what happened, without the trigger the lifecycle adds
}
