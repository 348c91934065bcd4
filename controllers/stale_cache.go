package controllers

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// ensureCurrent refuses to go on from a cached object that the API server has
// since changed, with a conflict (retried quietly). It guards what no write can:
// a step that acts at a remote system before, or without, writing the object.
func ensureCurrent(ctx context.Context, reader client.Reader, obj client.Object) error {
	fresh := obj.DeepCopyObject().(client.Object)
	if err := reader.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read %s: %w", obj.GetName(), err))
	}
	if fresh.GetResourceVersion() != obj.GetResourceVersion() {
		gr := schema.GroupResource{Group: tokensv1alpha1.GroupVersion.Group, Resource: "tokens"}
		return apierrors.NewConflict(gr, obj.GetName(), errors.New("the cache is behind the API server"))
	}
	return nil
}
