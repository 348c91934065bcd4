package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/rotation"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// rotationInputOf gathers the part of the rotation chain's input that every kind
// shares: the Secret, the rotate annotation, the expiry and the renewal time.
// Each kind adds what is its own.
func rotationInputOf(obj tokenObject, secret *corev1.Secret, now time.Time, maxAge time.Duration) rotation.Input {
	status := obj.GetTokenStatus()
	renewal, _ := schedule.Renewal(status, obj.GetRotation(), maxAge, string(obj.GetUID()), now)
	in := rotation.Input{
		Now:             now,
		SecretName:      obj.GetSecretTemplate().Name,
		HeldIn:          status.SecretName,
		SecretFound:     secret != nil,
		RotateRequested: obj.GetAnnotations()[tokensv1alpha1.RotateAnnotation],
		RotateHandled:   status.LastHandledRotateAt,
		RenewalTime:     renewal,
	}
	if status.ExpiresAt != nil {
		in.ExpiresAt = status.ExpiresAt.Time
	}
	return in
}
