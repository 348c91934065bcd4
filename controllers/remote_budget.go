package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// RemoteBudget bounds how many calls to one issuer's remote system are in
// flight at once, so that an issuer that hangs (any namespace editor can point a
// TokenIssuer anywhere) holds a few workers, not all of them: the tokens of other
// issuers are still minted on time. One budget serves every controller of the
// manager. A nil budget bounds nothing.
type RemoteBudget struct {
	perIssuer int
	mu        sync.Mutex
	slots     map[string]chan struct{} // per issuer, perIssuer places
}

// DefaultRemoteCallsPerIssuer is how many calls to one issuer may be in flight
// at once: half the default workers of a kind, so that a hanging issuer leaves
// the other half to the others.
const DefaultRemoteCallsPerIssuer = 8

// waitForRoom is how long a call waits for room with a full issuer. A
// healthy issuer frees room in milliseconds: waiting is cheaper than a requeue
// and its status write. A hanging one keeps it full: the token then gives its
// worker back and looks again after remoteBusyRetry.
const waitForRoom = 500 * time.Millisecond

// remoteBusyRetry is when a token whose issuer had no room looks again.
const remoteBusyRetry = 2 * time.Second

// NewRemoteBudget returns a budget of perIssuer reconciles at once per issuer.
func NewRemoteBudget(perIssuer int) *RemoteBudget {
	return &RemoteBudget{perIssuer: max(perIssuer, 1), slots: map[string]chan struct{}{}}
}

// take reserves room with issuer, as the token in namespace names it, for one
// remote call (or the few calls of one exchange), waiting up to waitForRoom
// while the issuer is full; release gives it back. The call must not be made
// when take fails: that failure certainly reached nothing remote.
func (b *RemoteBudget) take(ctx context.Context, namespace string, issuer resolvedIssuer) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	slots := b.slotsOf(namespace, issuer)
	timer := time.NewTimer(waitForRoom)
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-timer.C:
		return nil, reconcile.Wait(tokensv1alpha1.IssuerBusyReason, remoteBusyRetry,
			fmt.Errorf("%s already has %d calls in flight, its most: waiting for one to end", issuer, b.perIssuer))
	case <-ctx.Done():
		return nil, reconcile.Fail(reconcile.FailedReason, ctx.Err())
	}
}

// isIssuerBusy tells whether err is take's refusal, which sent nothing.
func isIssuerBusy(err error) bool { return waitingFor(err, tokensv1alpha1.IssuerBusyReason) }

// waitingFor tells whether err is a wait for one of reasons.
func waitingFor(err error, reasons ...string) bool {
	var waiting *reconcile.Waiting
	return errors.As(err, &waiting) && slices.Contains(reasons, waiting.Reason)
}

// slotsOf is the places of issuer, as the token in namespace names it.
func (b *RemoteBudget) slotsOf(namespace string, issuer resolvedIssuer) chan struct{} {
	key := issuer.ref.Name
	if issuer.ref.Kind != tokensv1alpha1.ClusterTokenIssuerKind {
		// TokenIssuers of the same name in two namespaces are two issuers.
		key = namespace + "/" + key
	}
	key = string(issuer.ref.Kind) + " " + key
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.slots[key] == nil {
		b.slots[key] = make(chan struct{}, b.perIssuer)
	}
	return b.slots[key]
}
