package controllers

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	ctrlreconcile "sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// NewCredentialsCache adds to mgr a cache of its own for the credentials Secrets
// the operator reads: their metadata only, and only those labelled
// tokenoperator.io/credentials, never every Secret of the cluster. namespaces
// limits it as cache.Options.DefaultNamespaces does; nil means all.
func NewCredentialsCache(mgr ctrl.Manager, namespaces map[string]cache.Config) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:           mgr.GetHTTPClient(),
		Scheme:               mgr.GetScheme(),
		Mapper:               mgr.GetRESTMapper(),
		DefaultNamespaces:    namespaces,
		DefaultLabelSelector: labels.SelectorFromSet(labels.Set{tokensv1alpha1.CredentialsLabel: "true"}),
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the credentials cache: %w", err)
	}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	return c, nil
}

// credentialsSource wakes the objects that name a changed credentials Secret:
// byName lists them from the Secret's namespace and name. Only updates count: a
// Secret enters the cache when the operator labels it (or the cache starts), and
// neither is a change a token waits for; a deleted Secret leaves nothing to retry.
func credentialsSource(credentials cache.Cache, byName func(ctx context.Context, namespace, name string) []ctrlreconcile.Request) source.Source {
	secret := metadataOf("Secret")
	onlyUpdates := predicate.TypedFuncs[*metav1.PartialObjectMetadata]{
		CreateFunc:  func(event.TypedCreateEvent[*metav1.PartialObjectMetadata]) bool { return false },
		DeleteFunc:  func(event.TypedDeleteEvent[*metav1.PartialObjectMetadata]) bool { return false },
		GenericFunc: func(event.TypedGenericEvent[*metav1.PartialObjectMetadata]) bool { return false },
	}
	return source.Kind(credentials, secret, handler.TypedEnqueueRequestsFromMapFunc(
		func(ctx context.Context, s *metav1.PartialObjectMetadata) []ctrlreconcile.Request {
			return byName(ctx, s.Namespace, s.Name)
		}), onlyUpdates)
}

// markCredentials labels a credentials Secret so that the credentials cache sees
// it. It is best effort: without the label the operator still works, it only
// notices a fixed Secret later.
func markCredentials(ctx context.Context, c client.Client, secret *corev1.Secret) {
	if secret.Labels[tokensv1alpha1.CredentialsLabel] == "true" {
		return
	}
	// Tokens sharing the Secret, reconciled at once, read the same unlabelled
	// version: only the first labels it. A label removed later makes another
	// version, which is labelled again.
	if seen, loaded := labelledCredentials.Swap(secret.UID, secret.ResourceVersion); loaded && seen == secret.ResourceVersion {
		return
	}
	patch := client.MergeFrom(secret.DeepCopy())
	if secret.Labels == nil {
		secret.Labels = map[string]string{}
	}
	secret.Labels[tokensv1alpha1.CredentialsLabel] = "true"
	if err := c.Patch(ctx, secret, patch); err != nil {
		labelledCredentials.Delete(secret.UID)
		ctrl.LoggerFrom(ctx).V(1).Info("Could not label a credentials Secret; changes to it will be noticed later",
			"secret", secret.Name, "error", err.Error())
	}
}

// labelledCredentials holds, per credentials Secret's UID, the unlabelled
// resourceVersion this process labelled.
var labelledCredentials sync.Map

// metadataOf is an empty metadata-only object of a core kind ("Secret",
// "Namespace"), to read or watch no more than its metadata.
func metadataOf(kind string) *metav1.PartialObjectMetadata {
	obj := &metav1.PartialObjectMetadata{}
	obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return obj
}
