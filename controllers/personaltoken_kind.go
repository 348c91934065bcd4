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
}

func (k *personalTokenKind) newObject() *tokensv1alpha1.PersonalToken {
	return &tokensv1alpha1.PersonalToken{}
}

func (k *personalTokenKind) issuerBlock() string { return issuerBlockAWX }

func (k *personalTokenKind) rotationChain() rotation.Chain { return rotation.PersonalToken }

// rotationInput gathers what the rotation chain looks at.
func (k *personalTokenKind) rotationInput(pt *tokensv1alpha1.PersonalToken, secret *corev1.Secret, now time.Time, maxAge time.Duration) rotation.Input {
	_, holds := heldValue(secret, pt.Status.TokenID)
	in := rotationInputOf(pt, secret, now, maxAge)
	in.Subject = fmt.Sprintf("token %d", pt.Status.TokenID)
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
