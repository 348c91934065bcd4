package scale

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/operator"
)

// readyCounter follows the PersonalTokens of a namespace with a watch, as a
// user's `kubectl get -w` would, and counts those Ready: listing thousands of
// tokens every second would load the API server it measures.
type readyCounter struct {
	mu    sync.Mutex
	ready map[string]bool
	n     int // how many are true in ready
	wake  chan struct{}
}

func watchReady(ctx context.Context, cfg *rest.Config, namespace string) (*readyCounter, error) {
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: operator.NewScheme()})
	if err != nil {
		return nil, err
	}
	r := &readyCounter{ready: map[string]bool{}, wake: make(chan struct{}, 1)}
	go r.follow(ctx, c, namespace)
	return r, nil
}

// follow watches until ctx ends, watching again from where it was when the API
// server ends a watch.
func (r *readyCounter) follow(ctx context.Context, c client.WithWatch, namespace string) {
	resourceVersion := ""
	for ctx.Err() == nil {
		w, err := c.Watch(ctx, &tokensv1alpha1.PersonalTokenList{}, client.InNamespace(namespace),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true}})
		if err != nil {
			continue
		}
		for ev := range w.ResultChan() {
			pt, ok := ev.Object.(*tokensv1alpha1.PersonalToken)
			if !ok {
				continue
			}
			resourceVersion = pt.ResourceVersion
			if ev.Type == watch.Bookmark {
				continue
			}
			ready := ev.Type != watch.Deleted && meta.IsStatusConditionTrue(pt.Status.Conditions, tokensv1alpha1.ReadyCondition)
			r.mu.Lock()
			if ready != r.ready[pt.Name] {
				r.ready[pt.Name] = ready
				if ready {
					r.n++
				} else {
					r.n--
				}
			}
			r.mu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default:
			}
		}
	}
}

// count is how many tokens are Ready.
func (r *readyCounter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// waitCount waits until n tokens are Ready, or ctx ends.
func (r *readyCounter) waitCount(ctx context.Context, n int) error {
	for r.count() < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
		}
	}
	return nil
}
