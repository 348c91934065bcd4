package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// OwnedSecretsOnly is the cache configuration of the manager: of all Secrets, it
// holds only those the operator writes, never every Secret of the cluster, and
// with a shard (the label selector of its tokens; nil: none) only those of the
// shard's tokens, which carry their token's shard labels.
func OwnedSecretsOnly(shard labels.Selector) map[client.Object]cache.ByObject {
	selector := labels.SelectorFromSet(labels.Set{tokensv1alpha1.ManagedByLabel: tokensv1alpha1.ManagedByValue})
	if shard != nil {
		if requirements, selectable := shard.Requirements(); selectable {
			selector = selector.Add(requirements...)
		}
	}
	return map[client.Object]cache.ByObject{&corev1.Secret{}: {Label: selector}}
}
