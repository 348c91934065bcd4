package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

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

func hashOf(value []byte) string {
	sum := sha256.Sum256(value)
	return hex.EncodeToString(sum[:])
}

// desiredPersonalTokenSecret is the Secret that holds token id with value.
func desiredPersonalTokenSecret(pt *tokensv1alpha1.PersonalToken, host string, id int64, value string) *corev1.Secret {
	spec := pt.Spec.Secret
	keys := personalTokenSecretKeys[spec.Format]
	data := map[string][]byte{keys.token: []byte(value)}
	if keys.host != "" {
		data[keys.host] = []byte(host)
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[tokensv1alpha1.ManagedByLabel] = tokensv1alpha1.ManagedByValue
	annotations := maps.Clone(spec.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[tokensv1alpha1.TokenIDAnnotation] = strconv.FormatInt(id, 10)
	annotations[tokensv1alpha1.TokenHashAnnotation] = hashOf([]byte(value))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: pt.Namespace, Labels: labels, Annotations: annotations},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// writeSecret makes the Secret match desired, writing only what differs. It refuses
// to take over a Secret that this token does not control.
func (r *PersonalTokenReconciler) writeSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, desired *corev1.Secret) error {
	if err := controllerutil.SetControllerReference(pt, desired, r.Scheme()); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to own Secret %q: %w", desired.Name, err))
	}
	// The cache holds only Secrets with our label: one without it is read directly.
	existing := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	}
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Create(ctx, desired, client.FieldOwner(PersonalTokenControllerName)); err != nil {
			return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to create Secret %q: %w", desired.Name, err))
		}
		return nil
	case err != nil:
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", desired.Name, err))
	case !metav1.IsControlledBy(existing, pt):
		return reconcile.Stall(tokensv1alpha1.SecretConflictReason,
			fmt.Errorf("Secret %q exists and is not managed by this PersonalToken: delete it or choose another spec.secret.name", desired.Name))
	}
	updated := existing.DeepCopy()
	updated.Data = desired.Data
	updated.Type = desired.Type
	updated.Labels = mergeInto(updated.Labels, desired.Labels)
	updated.Annotations = mergeInto(updated.Annotations, desired.Annotations)
	if equality.Semantic.DeepEqual(existing, updated) {
		return nil
	}
	if err := r.Update(ctx, updated, client.FieldOwner(PersonalTokenControllerName)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to update Secret %q: %w", desired.Name, err))
	}
	return nil
}

// freshSecret reads the token's Secret from the API server, not the cache; nil when
// it does not exist.
func (r *PersonalTokenReconciler) freshSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: pt.Spec.Secret.Name}, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", pt.Spec.Secret.Name, err))
	}
	return secret, nil
}

// deleteSecret deletes a Secret this token controls, if it exists.
func (r *PersonalTokenReconciler) deleteSecret(ctx context.Context, pt *tokensv1alpha1.PersonalToken, name string) error {
	secret := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: name}, secret); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(secret, pt) {
		return nil
	}
	if err := r.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to delete Secret %q: %w", name, err))
	}
	return nil
}

// mergeInto sets the keys of want on have, keeping what others added.
func mergeInto(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	maps.Copy(have, want)
	return have
}
