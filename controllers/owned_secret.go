package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// ownedSecretMeta is the metadata of a Secret a token writes: the labels and
// annotations of its spec.secret, the label that puts it in the operator's
// cache, and the operator's own annotations.
func ownedSecretMeta(tmpl tokensv1alpha1.SecretTemplate, namespace string, annotations map[string]string) metav1.ObjectMeta {
	meta := metav1.ObjectMeta{Name: tmpl.Name, Namespace: namespace, Labels: maps.Clone(tmpl.Labels), Annotations: maps.Clone(tmpl.Annotations)}
	meta.Labels = mergeInto(meta.Labels, map[string]string{tokensv1alpha1.ManagedByLabel: tokensv1alpha1.ManagedByValue})
	meta.Annotations = mergeInto(meta.Annotations, annotations)
	if len(tmpl.Labels)+len(tmpl.Annotations) > 0 {
		meta.Annotations[tokensv1alpha1.TemplateKeysAnnotation] = templateKeys{labels: slices.Sorted(maps.Keys(tmpl.Labels)),
			annotations: slices.Sorted(maps.Keys(tmpl.Annotations))}.String()
	}
	return meta
}

// templateKeys are the label and annotation keys spec.secret set on a Secret, as
// its TemplateKeysAnnotation records them: a key that leaves spec.secret is
// removed from the Secret, while those others added stay.
type templateKeys struct{ labels, annotations []string }

// String is "labels=a,b;annotations=c".
func (k templateKeys) String() string {
	return "labels=" + strings.Join(k.labels, ",") + ";annotations=" + strings.Join(k.annotations, ",")
}

// templateKeysOf reads the TemplateKeysAnnotation of a Secret.
func templateKeysOf(secret *corev1.Secret) templateKeys {
	var k templateKeys
	for _, part := range strings.Split(secret.Annotations[tokensv1alpha1.TemplateKeysAnnotation], ";") {
		name, keys, _ := strings.Cut(part, "=")
		var list []string
		if keys != "" {
			list = strings.Split(keys, ",")
		}
		switch name {
		case "labels":
			k.labels = list
		case "annotations":
			k.annotations = list
		}
	}
	return k
}

// withoutDroppedKeys removes from m the keys that were set from the template
// (had) and no longer are (want).
func withoutDroppedKeys(m map[string]string, had []string, want map[string]string) {
	for _, key := range had {
		if _, kept := want[key]; !kept {
			delete(m, key)
		}
	}
}

// secretWriter writes the Secrets of one token kind.
type secretWriter struct {
	client client.Client
	// reader reads Secrets the cache does not hold (those without our label, or
	// with another shard's).
	reader     client.Reader
	fieldOwner string
	kind       string // the token kind, in messages
	// shardLabels are the label keys a Secret carries as its token does.
	shardLabels []string
}

// write makes the Secret match desired, writing only what differs. It refuses to
// take over a Secret that token does not control. known, if not nil, is the
// Secret as this reconcile read it, maybe from the API server because the cache
// does not hold it.
func (w secretWriter) write(ctx context.Context, token client.Object, desired, known *corev1.Secret) error {
	if err := controllerutil.SetControllerReference(token, desired, w.client.Scheme()); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to own Secret %q: %w", desired.Name, err))
	}
	withShardLabels(desired, token, w.shardLabels)
	existing, err := w.owned(ctx, token, desired.Name)
	if err != nil {
		return err
	}
	if existing == nil && known != nil && known.Name == desired.Name && metav1.IsControlledBy(known, token) {
		existing = known
	}
	if existing == nil {
		// A Secret the cache does not hold is most likely not there: creating it
		// tells as much as reading it would, in one request.
		err := w.client.Create(ctx, desired, client.FieldOwner(w.fieldOwner))
		if !apierrors.IsAlreadyExists(err) {
			if err != nil {
				return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to create Secret %q: %w", desired.Name, err))
			}
			return nil
		}
		if existing, err = w.claimable(ctx, token, desired.Name); err != nil {
			return err
		}
		if existing == nil {
			return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("Secret %q was deleted while being written: writing it again", desired.Name))
		}
	}
	updated := existing.DeepCopy()
	updated.Data = desired.Data
	updated.Type = desired.Type
	had := templateKeysOf(existing)
	withoutDroppedKeys(updated.Labels, had.labels, desired.Labels)
	withoutDroppedKeys(updated.Annotations, had.annotations, desired.Annotations)
	if _, keys := desired.Annotations[tokensv1alpha1.TemplateKeysAnnotation]; !keys {
		delete(updated.Annotations, tokensv1alpha1.TemplateKeysAnnotation)
	}
	withoutDroppedKeys(updated.Labels, w.shardLabels, desired.Labels)
	updated.Labels = mergeInto(updated.Labels, desired.Labels)
	updated.Annotations = mergeInto(updated.Annotations, desired.Annotations)
	if equality.Semantic.DeepEqual(existing, updated) {
		return nil
	}
	if err := w.client.Update(ctx, updated, client.FieldOwner(w.fieldOwner)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to update Secret %q: %w", desired.Name, err))
	}
	return nil
}

// owned returns the Secret at name if the cache holds it (nil when not), or
// refuses one that token does not control.
func (w secretWriter) owned(ctx context.Context, token client.Object, name string) (*corev1.Secret, error) {
	return w.read(ctx, w.client, token, name)
}

// controlled refuses a Secret that token does not control.
func (w secretWriter) controlled(token client.Object, secret *corev1.Secret) error {
	if !metav1.IsControlledBy(secret, token) {
		return reconcile.Stall(tokensv1alpha1.SecretConflictReason,
			fmt.Errorf("Secret %q exists and is not managed by this %s: delete it or choose another spec.secret.name", secret.Name, w.kind))
	}
	return nil
}

// claimable returns the Secret at name (nil when there is none), or refuses one
// that token does not control. Minting checks it first, so that nothing is minted
// for a Secret that cannot be written.
func (w secretWriter) claimable(ctx context.Context, token client.Object, name string) (*corev1.Secret, error) {
	existing, err := w.owned(ctx, token, name)
	if existing != nil || err != nil {
		return existing, err
	}
	// The cache holds only Secrets with our label: one without it is read directly.
	return w.read(ctx, w.reader, token, name)
}

// read reads the Secret at name with reader (nil when there is none), and
// refuses one that token does not control.
func (w secretWriter) read(ctx context.Context, reader client.Reader, token client.Object, name string) (*corev1.Secret, error) {
	existing, err := getSecret(ctx, reader, token.GetNamespace(), name)
	if existing == nil || err != nil {
		return nil, err
	}
	return existing, w.controlled(token, existing)
}

// getSecret reads the Secret namespace/name with reader; nil when there is none.
func getSecret(ctx context.Context, reader client.Reader, namespace, name string) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", name, err))
	}
	return secret, nil
}

// getSecretThrough reads the Secret namespace/name from the cache or, when the
// cache does not hold it (another shard's label, or too new), with reader; nil
// when there is none.
func getSecretThrough(ctx context.Context, cache, reader client.Reader, namespace, name string) (*corev1.Secret, error) {
	secret, err := getSecret(ctx, cache, namespace, name)
	if secret == nil && err == nil {
		return getSecret(ctx, reader, namespace, name)
	}
	return secret, err
}

// delete deletes a Secret token controls, if it exists.
func (w secretWriter) delete(ctx context.Context, token client.Object, name string) error {
	secret, err := w.find(ctx, token, name)
	if secret == nil || err != nil {
		return err
	}
	if err := w.client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to delete Secret %q: %w", name, err))
	}
	return nil
}

// find returns the Secret at name if token controls it (nil otherwise), from the
// cache or, when the cache does not hold it, from the API server.
func (w secretWriter) find(ctx context.Context, token client.Object, name string) (*corev1.Secret, error) {
	secret, err := getSecretThrough(ctx, w.client, w.reader, token.GetNamespace(), name)
	return ifControlled(token, secret, err)
}

// uncached reads from the API server the Secret at name if token controls it
// (nil otherwise): one the cache does not hold may still carry the label of the
// shard the token came from, or be too new for the cache.
func (w secretWriter) uncached(ctx context.Context, token client.Object, name string) (*corev1.Secret, error) {
	secret, err := getSecret(ctx, w.reader, token.GetNamespace(), name)
	return ifControlled(token, secret, err)
}

// ifControlled is what a read of a Secret gave, but nil for one that token does
// not control: a Secret that is not the token's own counts as none.
func ifControlled(token client.Object, secret *corev1.Secret, err error) (*corev1.Secret, error) {
	if secret == nil || err != nil || !metav1.IsControlledBy(secret, token) {
		return nil, err
	}
	return secret, nil
}

// leaveOldSecret deletes the Secret that held the token before spec.secret.name
// changed (oldName), so that no Secret is left handing out a token that is being
// replaced.
func (w secretWriter) leaveOldSecret(ctx context.Context, token client.Object, oldName, newName string) error {
	if oldName == "" || oldName == newName {
		return nil
	}
	return w.delete(ctx, token, oldName)
}

// withShardLabels gives desired the token's values of the shard label keys, and
// none the token lacks: the shard whose selector picks the token picks its Secret
// for its cache too.
func withShardLabels(desired *corev1.Secret, token client.Object, keys []string) {
	for _, key := range keys {
		if value, ok := token.GetLabels()[key]; ok {
			desired.Labels = mergeInto(desired.Labels, map[string]string{key: value})
		} else {
			delete(desired.Labels, key)
		}
	}
}

// hashOf is the SHA-256 of a token value, which the Secret's hash annotation
// holds so that a value changed by hand is noticed.
func hashOf(value []byte) string {
	sum := sha256.Sum256(value)
	return hex.EncodeToString(sum[:])
}

// mergeInto sets the keys of want on have, keeping what others added.
func mergeInto(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	maps.Copy(have, want)
	return have
}
