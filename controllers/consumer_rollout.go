package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/consumers"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// consumerRollout brings the consumers of one token's Secret to a new version
// of its content, in one reconcile. Workloads are read from the API server, not
// a cache: the operator caches only what it owns.
type consumerRollout struct {
	TokenDeps
	fieldOwner string
	token      tokenObject
	kindName   string // the token's kind, in messages
	secret     string // the Secret's name
	version    string // the version of its content to bring consumers to
	policy     consumerPolicy
}

// discover lists the objects in the token's namespace that read the Secret and
// may hold its previous content, and says what to do about each.
func (c consumerRollout) discover(ctx context.Context) ([]tokensv1alpha1.ConsumerStatus, error) {
	var found []tokensv1alpha1.ConsumerStatus
	for _, kind := range consumerKinds {
		list := kind.newList()
		if err := c.APIReader.List(ctx, list, client.InNamespace(c.token.GetNamespace())); err != nil {
			return nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to list the %ss that may read Secret %q: %w", kind.kind, c.secret, err))
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			obj := item.(client.Object)
			reads, ok := consumers.Reads(kind.podSpec(obj), c.secret)
			if !ok || !kind.holds(obj) {
				continue
			}
			found = append(found, c.plan(kind, obj, reads))
		}
	}
	return found, nil
}

// plan says what to do about one consumer found reading the Secret.
func (c consumerRollout) plan(kind consumerKind, obj client.Object, reads tokensv1alpha1.ConsumerReads) tokensv1alpha1.ConsumerStatus {
	cs := tokensv1alpha1.ConsumerStatus{Kind: kind.kind, Name: obj.GetName(), UID: obj.GetUID(), Reads: reads, Action: tokensv1alpha1.ConsumerActionWait}
	restartable := kind.template != nil
	switch {
	case restartable && (c.policy.restart == tokensv1alpha1.ConsumerRestartAlways ||
		c.policy.restart == tokensv1alpha1.ConsumerRestartAuto && consumers.NeedsRestart(reads)):
		cs.Action = tokensv1alpha1.ConsumerActionRestart
	case restartable && consumers.NeedsRestart(reads):
		// Not ours to restart: wait for a rollout of another template, which
		// someone else starts.
		cs.Generation, cs.TemplateHash = obj.GetGeneration()+1, templateHash(kind.template(obj))
	}
	return cs
}

// templateHash is a digest of a pod template.
func templateHash(t *corev1.PodTemplateSpec) string {
	data, _ := json.Marshal(t)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// restart rolls cs out by changing its pod template's annotations, unless its
// template already records this version: restarted before a crash lost the
// record, or by another token's restart that took this Secret's new content
// along. It reports whether it patched the workload.
func (c consumerRollout) restart(ctx context.Context, cs *tokensv1alpha1.ConsumerStatus) (bool, error) {
	kind, obj, err := c.get(ctx, *cs, "restart it")
	if err != nil || obj == nil || kind.template == nil {
		cs.RolledOut = err == nil
		return false, err
	}
	tmpl := kind.template(obj)
	versions := restartedFor(tmpl.Annotations[tokensv1alpha1.RestartedForAnnotation])
	if versions[c.secret] == c.version {
		cs.Restarted, cs.Generation = true, obj.GetGeneration()
		return false, nil
	}
	before := obj.DeepCopyObject().(client.Object)
	// Every token Secret it reads goes in at its current version, so that a
	// token whose Secret changed meanwhile finds its restart done.
	for name := range consumers.References(kind.podSpec(obj)) {
		if v := c.currentVersion(ctx, name); v != "" {
			versions[name] = v
		}
	}
	versions[c.secret] = c.version
	tmpl.Annotations = mergeInto(tmpl.Annotations, map[string]string{
		tokensv1alpha1.RestartedAtAnnotation:  c.Clock.Now().UTC().Format(time.RFC3339),
		tokensv1alpha1.RestartedForAnnotation: encodeRestartedFor(versions),
	})
	// The lock keeps another token's restart of the same workload, at the same
	// moment, from being overwritten.
	patch := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})
	if err := c.Client.Patch(ctx, obj, patch, client.FieldOwner(c.fieldOwner)); err != nil {
		if apierrors.IsNotFound(err) {
			cs.RolledOut = true
			return false, nil
		}
		return false, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to restart %s %q: %w", cs.Kind, cs.Name, err))
	}
	cs.Restarted, cs.Generation = true, obj.GetGeneration()
	c.Recorder.Eventf(obj, c.token, corev1.EventTypeNormal, tokensv1alpha1.RestartedReason, "Restart",
		"restarted to load the new content of Secret %q (%s %q)", c.secret, c.kindName, c.token.GetName())
	return true, nil
}

// currentVersion is the version of a token Secret the operator owns, read from
// its cache, or from the API server when the cache does not hold it (a Secret of
// another shard's token); empty for any other Secret.
func (c consumerRollout) currentVersion(ctx context.Context, name string) string {
	secret, err := getSecretThrough(ctx, c.Client, c.APIReader, c.token.GetNamespace(), name)
	if secret == nil || err != nil || secret.Labels[tokensv1alpha1.ManagedByLabel] != tokensv1alpha1.ManagedByValue {
		return ""
	}
	return secretVersion(secret.Data)
}

// rolledOut tells whether cs no longer holds the content the Secret had before
// changedAt: a mounted volume once the kubelet has had time to refresh it, any
// other consumer once it has rolled out or ended, or is gone, or was replaced
// by another of the same name.
func (c consumerRollout) rolledOut(ctx context.Context, cs tokensv1alpha1.ConsumerStatus, changedAt time.Time) (bool, error) {
	if cs.Action == tokensv1alpha1.ConsumerActionWait && !consumers.NeedsRestart(cs.Reads) {
		return !c.Clock.Now().Before(changedAt.Add(c.Consumers.VolumeRefreshDelay)), nil
	}
	kind, obj, err := c.get(ctx, cs, "follow its rollout")
	switch {
	case err != nil:
		return false, err
	case obj == nil || obj.GetUID() != cs.UID:
		return true, nil
	case !kind.done(obj, cs.Generation):
		return false, nil
	case cs.TemplateHash != "" && templateHash(kind.template(obj)) == cs.TemplateHash:
		return false, nil
	case kind.selector == nil:
		return true, nil
	}
	return c.noPodTerminating(ctx, cs, kind.selector(obj))
}

// get reads cs from the API server, to do what for; a nil object when it is gone
// or of a kind no longer known, both of which hold nothing any more.
func (c consumerRollout) get(ctx context.Context, cs tokensv1alpha1.ConsumerStatus, what string) (consumerKind, client.Object, error) {
	kind, known := consumerKindNamed(cs.Kind)
	if !known {
		return kind, nil, nil
	}
	obj := kind.newObj()
	err := c.APIReader.Get(ctx, client.ObjectKey{Namespace: c.token.GetNamespace(), Name: cs.Name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		return kind, nil, nil
	case err != nil:
		return kind, nil, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read %s %q to %s: %w", cs.Kind, cs.Name, what, err))
	}
	return kind, obj, nil
}

// noPodTerminating tells whether none of a workload's pods is shutting down: a
// workload's status stops counting an old pod once it is being deleted, while it
// may still finish its work with the old token.
func (c consumerRollout) noPodTerminating(ctx context.Context, cs tokensv1alpha1.ConsumerStatus, selector *metav1.LabelSelector) (bool, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return true, nil
	}
	var pods corev1.PodList
	if err := c.APIReader.List(ctx, &pods, client.InNamespace(c.token.GetNamespace()), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return false, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to list the pods of %s %q: %w", cs.Kind, cs.Name, err))
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			return false, nil
		}
	}
	return true, nil
}
