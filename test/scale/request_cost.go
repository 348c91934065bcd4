package scale

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// RequestCosts are what single requests of a bare client cost on the run's
// control plane, as parallel as the bench: the wall time of n of them over n.
// They say how much of the operator's time is the API server's for custom
// resources, whatever the operator does.
type RequestCosts struct {
	ConfigMapCreate, TokenCreate, TokenStatusPatch time.Duration
}

// requestCosts times n ConfigMap creates, n PersonalToken creates and a status
// patch of each of those tokens, with the operator stopped.
func (w *world) requestCosts(ctx context.Context, n int) (RequestCosts, error) {
	var costs RequestCosts
	per := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	d, err := createInParallel(ctx, n, func(i int) client.Object { return w.bareConfigMap(fmt.Sprintf("cost-%d", i)) }, w.c)
	if err != nil {
		return costs, err
	}
	costs.ConfigMapCreate = per(d)
	tokens := make([]*tokensv1alpha1.PersonalToken, n)
	d, err = inParallel(n, func(i int) error {
		tokens[i] = w.personalToken(i).(*tokensv1alpha1.PersonalToken)
		tokens[i].Name = fmt.Sprintf("cost-%05d", i)
		return w.c.Create(ctx, tokens[i])
	})
	if err != nil {
		return costs, err
	}
	costs.TokenCreate = per(d)
	d, err = inParallel(n, func(i int) error {
		pt := tokens[i]
		before := pt.DeepCopy()
		pt.Status.SecretName = pt.Spec.Secret.Name
		pt.Status.Conditions = []metav1.Condition{{Type: tokensv1alpha1.ReadyCondition, Status: metav1.ConditionTrue,
			Reason: "Succeeded", Message: "a status as large as a Ready token's", LastTransitionTime: metav1.Now()}}
		return w.c.Status().Patch(ctx, pt, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return costs, err
	}
	costs.TokenStatusPatch = per(d)
	return costs, nil
}

// bareConfigMap is what the bare client creates for its yardstick: a ConfigMap
// holding as much as a token, name in the world's namespace.
func (w *world) bareConfigMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Data: map[string]string{"token": strings.Repeat("x", 40)}}
}
