package controllers

import (
	"fmt"
	"sync"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// RemoteBudget bounds how many reconciles talk to one issuer's remote system at
// once, so that an issuer that hangs (any namespace editor can point a
// TokenIssuer anywhere) holds a few workers, not all of them: the tokens of other
// issuers are still minted on time. One budget serves every controller of the
// manager. A nil budget bounds nothing.
type RemoteBudget struct {
	perIssuer int
	mu        sync.Mutex
	inFlight  map[string]int
}

// DefaultRemoteCallsPerIssuer is how many reconciles may talk to one issuer at once.
const DefaultRemoteCallsPerIssuer = 2

// remoteBusyRetry is when a token whose issuer had no room looks again.
const remoteBusyRetry = 2 * time.Second

// NewRemoteBudget returns a budget of perIssuer reconciles at once per issuer.
func NewRemoteBudget(perIssuer int) *RemoteBudget {
	return &RemoteBudget{perIssuer: max(perIssuer, 1), inFlight: map[string]int{}}
}

// take reserves room with issuer, as the token in namespace names it, for the
// rest of the reconcile st serves, once per reconcile; it waits, without holding
// a worker, while the issuer is full.
func (b *RemoteBudget) take(namespace string, issuer resolvedIssuer, st *tokenState) error {
	if b == nil || st.budgetHeld {
		return nil
	}
	key := issuer.ref.Name
	if issuer.ref.Kind != tokensv1alpha1.ClusterTokenIssuerKind {
		// TokenIssuers of the same name in two namespaces are two issuers.
		key = namespace + "/" + key
	}
	key = string(issuer.ref.Kind) + " " + key
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inFlight[key] >= b.perIssuer {
		return reconcile.Wait(tokensv1alpha1.IssuerBusyReason, remoteBusyRetry,
			fmt.Errorf("%s already has %d calls in flight, its most: waiting for one to end", issuer, b.perIssuer))
	}
	b.inFlight[key]++
	st.budgetHeld = true
	st.release = append(st.release, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.inFlight[key]--; b.inFlight[key] <= 0 {
			delete(b.inFlight, key)
		}
	})
	return nil
}
