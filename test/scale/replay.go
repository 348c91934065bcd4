package scale

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
)

// replay times a bare client making, for n new tokens, the very requests the
// operator made for each of the run's: the bench's create of the token, then the
// finalizer, the intent, the Secret, the commit and the event, in that order,
// parallelism tokens at a time. It is the API server's own pace for this work,
// with nothing of the operator's in between (no reads, no remote calls, no
// reconcile), so the run's time over it is what the operator adds. One
// difference: the operator's events go out in the background, the replay's in
// line. The operator must be stopped first: it would take the replayed tokens
// for its own.
func (w *world) replay(ctx context.Context, n int) (time.Duration, error) {
	tmpl, err := w.replayTemplate(ctx)
	if err != nil {
		return 0, err
	}
	return inParallel(n, func(i int) error { return w.replayOne(ctx, tmpl, i) })
}

// replayTemplate is what the operator wrote for the run's first token: its
// status, its Secret and its Issued event.
type replayTemplate struct {
	status tokensv1alpha1.PersonalTokenStatus
	secret corev1.Secret
	event  eventsv1.Event
}

func (w *world) replayTemplate(ctx context.Context) (replayTemplate, error) {
	var t replayTemplate
	first := w.personalToken(0)
	pt := &tokensv1alpha1.PersonalToken{}
	if err := w.c.Get(ctx, client.ObjectKeyFromObject(first), pt); err != nil {
		return t, err
	}
	t.status = pt.Status
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: pt.Spec.Secret.Name}, &t.secret); err != nil {
		return t, err
	}
	events := &eventsv1.EventList{}
	if err := w.c.List(ctx, events, client.InNamespace(w.ns)); err != nil {
		return t, err
	}
	for _, e := range events.Items {
		if e.Regarding.UID == pt.UID && e.Reason == "Issued" {
			t.event = e
			return t, nil
		}
	}
	return t, fmt.Errorf("no Issued event of %s", pt.Name)
}

// owner is the operator's field manager for PersonalTokens, so that the
// replayed objects carry the same managed fields.
var owner = client.FieldOwner("personaltoken-controller")

// replayOne makes the requests the operator made for a first token.
func (w *world) replayOne(ctx context.Context, tmpl replayTemplate, i int) error {
	name := fmt.Sprintf("replay-%05d", i)
	pt := w.personalToken(i).(*tokensv1alpha1.PersonalToken)
	pt.Name, pt.Spec.Secret.Name = name, name
	if err := w.c.Create(ctx, pt); err != nil {
		return err
	}
	before := pt.DeepCopy()
	pt.Finalizers = append(pt.Finalizers, controllers.PersonalTokenFinalizer)
	if err := w.c.Patch(ctx, pt, client.MergeFrom(before), owner); err != nil {
		return fmt.Errorf("finalizer: %w", err)
	}

	before = pt.DeepCopy()
	now := metav1.Now()
	pt.Status.PendingMint = &tokensv1alpha1.PendingMint{Marker: tmpl.status.Description, StartedAt: now,
		UserID: tmpl.status.UserID, SecretName: name, Endpoint: tmpl.status.Endpoint}
	for _, condition := range []string{tokensv1alpha1.IssuingCondition, tokensv1alpha1.ReconcilingCondition} {
		meta.SetStatusCondition(&pt.Status.Conditions, metav1.Condition{Type: condition, Status: metav1.ConditionTrue,
			Reason: "DoesNotExist", Message: "issuing a new token: the Secret holds no token yet", ObservedGeneration: pt.Generation})
	}
	if err := w.c.Status().Patch(ctx, pt, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), owner); err != nil {
		return fmt.Errorf("intent: %w", err)
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name,
		Labels: tmpl.secret.Labels, Annotations: tmpl.secret.Annotations,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(pt, tokensv1alpha1.GroupVersion.WithKind("PersonalToken"))}},
		Data: tmpl.secret.Data, Type: tmpl.secret.Type}
	if err := w.c.Create(ctx, secret, owner); err != nil {
		return fmt.Errorf("secret: %w", err)
	}

	before = pt.DeepCopy()
	pt.Status = *tmpl.status.DeepCopy()
	if err := w.c.Status().Patch(ctx, pt, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), owner); err != nil {
		return fmt.Errorf("commit: %w", err)
	}

	event := tmpl.event.DeepCopy()
	event.ObjectMeta = metav1.ObjectMeta{Namespace: w.ns, Name: fmt.Sprintf("%s.%x", name, time.Now().UnixNano())}
	event.Regarding.Name, event.Regarding.UID, event.Regarding.ResourceVersion = name, pt.UID, pt.ResourceVersion
	event.EventTime = metav1.NewMicroTime(time.Now())
	if err := w.c.Create(ctx, event); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	return nil
}
