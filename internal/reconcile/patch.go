package reconcile

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StatusPatcher writes an object's status, and only when it changed since the last
// write. Every patch carries the resourceVersion it was computed from, so a write
// based on a stale cache fails with a conflict instead of overwriting newer state:
// the minting protocol relies on that before it calls a remote API.
type StatusPatcher struct {
	client client.Client
	owner  client.FieldOwner
	before client.Object
	wrote  bool
}

// NewStatusPatcher remembers obj as it is now, the base of the next patch.
func NewStatusPatcher(c client.Client, owner string, obj client.Object) *StatusPatcher {
	return &StatusPatcher{client: c, owner: client.FieldOwner(owner), before: obj.DeepCopyObject().(client.Object)}
}

// Patch writes obj's status if obj differs from what was last written. Reconcilers
// change nothing but status through it.
func (p *StatusPatcher) Patch(ctx context.Context, obj client.Object) error {
	if !p.Changed(obj) {
		return nil
	}
	patch := client.MergeFromWithOptions(p.before, client.MergeFromWithOptimisticLock{})
	if err := p.client.Status().Patch(ctx, obj, patch, p.owner); err != nil {
		return err
	}
	p.before = obj.DeepCopyObject().(client.Object)
	p.wrote = true
	return nil
}

// Wrote tells whether a patch has been written: the object was then current, as
// the API server had it, when this reconcile wrote it.
func (p *StatusPatcher) Wrote() bool { return p.wrote }

// Changed tells whether obj differs from what was last written, so that Patch
// would write it.
func (p *StatusPatcher) Changed(obj client.Object) bool {
	return !equality.Semantic.DeepEqual(p.before, obj)
}

// Rebase makes obj, as it is now, the base of the next patch: after a write made
// outside the patcher (the finalizer, say) moved the resourceVersion on.
func (p *StatusPatcher) Rebase(obj client.Object) {
	p.before = obj.DeepCopyObject().(client.Object)
}
