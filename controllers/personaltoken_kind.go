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
func (k *personalTokenKind) rotationInput(pt *tokensv1alpha1.PersonalToken, secret *corev1.Secret, now time.Time, maxAge time.Duration) rotation.Input {
	_, holds := heldValue(secret, pt.Status.TokenID)
	in := rotationInputOf(pt, secret, now, maxAge)
	in.Noun, in.Subject = "token", fmt.Sprintf("token %d", pt.Status.TokenID)
	in.Exists = pt.Status.TokenID != 0
	in.SecretHolds = holds
	in.WantUser, in.HeldUser = pt.Spec.User, pt.Status.User
	return in
}

// keptSecret rebuilds the Secret from the value it holds for the current token.
func (k *personalTokenKind) keptSecret(pt *tokensv1alpha1.PersonalToken, st *tokenState) *corev1.Secret {
	value, held := heldValue(st.secret, pt.Status.TokenID)
	if !held {
		return nil
	}
	return desiredPersonalTokenSecret(pt, st.issuer.spec.AWX.URL, pt.Status.TokenID, value)
}

func (k *personalTokenKind) readyMessage(pt *tokensv1alpha1.PersonalToken) string {
	return fmt.Sprintf("token %d of AWX user %q is in Secret %q", pt.Status.TokenID, pt.Status.User, pt.Spec.Secret.Name)
}
