package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// testOperatorKilled: the operator's pod is deleted with --grace-period=0
// --force twice in rotations of a token that a Deployment loads through env:
// once just after the rotation is asked for (while it mints), once after the
// Secret holds the new token (while the consumers restart). The pod that
// replaces it finishes each rotation with the same guarantees as without the
// crash, and no token is left behind at AWX.
func testOperatorKilled(t *testing.T) {
	ctx := scenarioContext(t, 15*time.Minute)
	const ns, name, user, deploy = "e2e-crash", "crasher", "crash-bot", "crash-consumer"
	pt := env.awxTokenWithConsumers(t, ctx, ns, name, user, deploy, readEnv)

	pt = env.rotateEnvConsumed(t, ctx, pt, deploy, func() {
		if now, err := env.personalToken(ctx, ns, name); err == nil {
			t.Logf("killing the operator with the token on AWX token %d, %d previous awaiting revocation", now.Status.TokenID, len(now.Status.PreviousTokens))
		}
		env.killOperator(t, ctx)
	})

	oldFP, err := env.secretFingerprint(ctx, ns, pt.Spec.Secret.Name, tokenKey)
	if err != nil {
		t.Fatal(err)
	}
	pt = env.rotateEnvConsumed(t, ctx, pt, deploy, func() {
		if err := poll(ctx, 2*time.Minute, "the Secret to hold the new token", func(ctx context.Context) (bool, error) {
			fp, err := env.secretFingerprint(ctx, ns, pt.Spec.Secret.Name, tokenKey)
			return err == nil && fp != oldFP, nil
		}); err != nil {
			t.Fatal(err)
		}
		env.killOperator(t, ctx)
	})
	env.checkConsumersNeverFailed(t, ctx, deploy)
	env.checkOneLiveToken(t, ctx, user, pt)
}

// killOperator force-deletes the operator's pods, as `kubectl delete pod
// --grace-period=0 --force` does, and waits for a new one to be ready.
func (e *environment) killOperator(t *testing.T, ctx context.Context) {
	t.Helper()
	pods, err := e.pods(ctx, operatorNamespace, map[string]string{"app.kubernetes.io/name": "token-operator"})
	if err != nil || len(pods) == 0 {
		t.Fatalf("no operator pod to kill (%v)", err)
	}
	killed := map[string]bool{}
	for i := range pods {
		if err := e.client.Delete(ctx, &pods[i], client.GracePeriodSeconds(0)); client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
		killed[pods[i].Name] = true
		t.Logf("operator pod %s force-deleted", pods[i].Name)
	}
	if err := poll(ctx, 2*time.Minute, "a new operator pod to be ready", func(ctx context.Context) (bool, error) {
		pods, err := e.pods(ctx, operatorNamespace, map[string]string{"app.kubernetes.io/name": "token-operator"})
		if err != nil {
			return false, nil
		}
		for _, p := range pods {
			if !killed[p.Name] && p.DeletionTimestamp == nil && podReady(&p) {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
