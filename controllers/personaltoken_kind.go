package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// personalTokenKind plugs PersonalTokens into the token lifecycle. It serves one
// reconcile: the AWX session it opens is reused by every step of that reconcile.
type personalTokenKind struct {
	r       *PersonalTokenReconciler
	session *remoteSession
	// sweepDue: this reconcile recovered a mint, so the orphan sweep runs
	// whatever its last time.
	sweepDue bool
	// elsewhere are sessions at endpoints the issuer no longer mints at, where
	// older tokens are revoked.
	elsewhere map[tokensv1alpha1.AWXEndpoint]*remoteSession
}

// The lifecycle finds a kind's optional steps by their interfaces: these make a
// signature that drifts a compile error instead of a step silently skipped.
var (
	_ tokenKind[*tokensv1alpha1.PersonalToken, personalTokenMint]     = (*personalTokenKind)(nil)
	_ mintPreparer[*tokensv1alpha1.PersonalToken]                     = (*personalTokenKind)(nil)
	_ mintRecoverer[*tokensv1alpha1.PersonalToken, personalTokenMint] = (*personalTokenKind)(nil)
	_ inPlaceUpdater[*tokensv1alpha1.PersonalToken]                   = (*personalTokenKind)(nil)
	_ revoker[*tokensv1alpha1.PersonalToken]                          = (*personalTokenKind)(nil)
	_ finalizer[*tokensv1alpha1.PersonalToken]                        = (*personalTokenKind)(nil)
)

func (k *personalTokenKind) newObject() *tokensv1alpha1.PersonalToken {
	return &tokensv1alpha1.PersonalToken{}
}

func (k *personalTokenKind) issuerBlock() string { return issuerBlockAWX }

func (k *personalTokenKind) rotationChain() rotation.Chain { return rotation.PersonalToken }

// rotationInput gathers what the rotation chain looks at.
func (k *personalTokenKind) rotationInput(pt *tokensv1alpha1.PersonalToken, st *tokenState, now time.Time) rotation.Input {
	_, holds := heldValue(st.secret, pt.Status.TokenID)
	in := rotationInputOf(pt, st.secret, now, st.maxAge)
	in.Noun, in.Subject = "token", fmt.Sprintf("token %d", pt.Status.TokenID)
	in.Exists = pt.Status.TokenID != 0
	in.SecretHolds = holds
	in.WantUser, in.HeldUser = pt.Spec.User, pt.Status.User
	// A change counts once the issuer has passed a check of it: a typo in a new
	// URL waits in the issuer's status, not in every token's.
	if st.issuer.spec.AWX != nil && st.issuer.checkReady() == nil {
		if now, known := endpointOf(st.issuer); known {
			if minted := mintedEndpoint(pt, st.secret, now.API); minted != nil {
				in.MintedAt, in.IssuerAt = describeEndpoint(*minted), describeEndpoint(now)
			}
		}
	}
	return in
}

// keptSecret rebuilds the Secret from the value it holds for the current token.
func (k *personalTokenKind) keptSecret(pt *tokensv1alpha1.PersonalToken, st *tokenState) *corev1.Secret {
	value, held := heldValue(st.secret, pt.Status.TokenID)
	if !held {
		return nil
	}
	// The host is where the token was minted, until a new one is minted elsewhere.
	host := st.issuer.spec.AWX.URL
	if pt.Status.Endpoint != nil {
		host = pt.Status.Endpoint.URL
	}
	return desiredPersonalTokenSecret(pt, host, pt.Status.TokenID, value)
}

func (k *personalTokenKind) readyMessage(pt *tokensv1alpha1.PersonalToken) string {
	return fmt.Sprintf("token %d of AWX user %q is in Secret %q", pt.Status.TokenID, pt.Status.User, pt.Spec.Secret.Name)
}
