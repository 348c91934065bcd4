package controllers

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// personalTokenSecretKeys are the host and token keys of each Secret format, as the
// tools of each era read them from the environment.
var personalTokenSecretKeys = map[tokensv1alpha1.PersonalTokenSecretFormat]struct{ host, token string }{
	tokensv1alpha1.SecretFormatController:       {"CONTROLLER_HOST", "CONTROLLER_OAUTH_TOKEN"},
	tokensv1alpha1.SecretFormatTower:            {"TOWER_HOST", "TOWER_OAUTH_TOKEN"},
	tokensv1alpha1.SecretFormatGateway:          {"AAP_HOSTNAME", "AAP_TOKEN"},
	tokensv1alpha1.SecretFormatResourceOperator: {"host", "token"},
	tokensv1alpha1.SecretFormatPlain:            {"", "token"},
}

// heldValue returns the value a Secret holds for token id, whatever format wrote it:
// the id annotation must match, and the value its hash annotation.
func heldValue(secret *corev1.Secret, id int64) (string, bool) {
	if secret == nil || id == 0 || secret.Annotations[tokensv1alpha1.TokenIDAnnotation] != strconv.FormatInt(id, 10) {
		return "", false
	}
	want := secret.Annotations[tokensv1alpha1.TokenHashAnnotation]
	for _, keys := range personalTokenSecretKeys {
		if value := secret.Data[keys.token]; len(value) > 0 && hashOf(value) == want {
			return string(value), true
		}
	}
	return "", false
}

// desiredPersonalTokenSecret is the Secret that holds token id with value.
func desiredPersonalTokenSecret(pt *tokensv1alpha1.PersonalToken, host string, id int64, value string) *corev1.Secret {
	keys := personalTokenSecretKeys[pt.Spec.Secret.Format]
	data := map[string][]byte{keys.token: []byte(value)}
	if keys.host != "" {
		data[keys.host] = []byte(host)
	}
	return &corev1.Secret{
		ObjectMeta: ownedSecretMeta(pt.Spec.Secret.SecretTemplate, pt.Namespace, map[string]string{
			tokensv1alpha1.TokenIDAnnotation:   strconv.FormatInt(id, 10),
			tokensv1alpha1.TokenHashAnnotation: hashOf([]byte(value)),
		}),
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

// freshSecret reads a Secret of the token from the API server, not the cache; nil
// when it does not exist.
func (k *personalTokenKind) freshSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := k.r.APIReader.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", name, err))
	}
	return secret, nil
}
