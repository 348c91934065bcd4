package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// survivor is what a token of the earlier scenarios must still be after an
// upgrade and an uninstall: the same AWX token in the same Secret.
type survivor struct {
	ns, name, user string
	tokenID        int64
	secretVersion  string
}

// testHelmUpgradeAndUninstall: `helm upgrade` with a changed value replaces the
// operator's pod, which takes over every token without minting or restarting
// anything; `helm uninstall` (crds.keep, the default) removes the operator and
// leaves the CRDs, the tokens, their Secrets and their AWX tokens, and the
// consumers keep working.
func testHelmUpgradeAndUninstall(t *testing.T) {
	ctx := scenarioContext(t, 10*time.Minute)
	survivors := env.survivors(t, ctx)
	minted := env.mintCount(t)

	upgradedAt := time.Now()
	if err := env.runHelm(ctx, "upgrade", releaseName, env.chart, "--namespace", operatorNamespace, "--reuse-values",
		"--set", "concurrency=8", "--wait", "--timeout", "3m"); err != nil {
		t.Fatal(err)
	}
	leader, err := env.waitNewLeader(ctx, upgradedAt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the upgrade, pod %s leads with --concurrency=8", leader)
	// The new leader has resynced every token once it has checked them all; give
	// it as long as a rotation takes.
	time.Sleep(20 * time.Second)
	env.checkSurvivors(t, ctx, survivors, true)
	if n := env.mintCount(t); n != minted {
		t.Fatalf("the upgrade minted %d AWX tokens", n-minted)
	}

	if err := env.runHelm(ctx, "uninstall", releaseName, "--namespace", operatorNamespace, "--wait", "--timeout", "2m"); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	err = env.client.Get(ctx, client.ObjectKey{Namespace: operatorNamespace, Name: releaseName}, &d)
	if !apierrors.IsNotFound(err) {
		t.Fatalf("the operator's Deployment is still there after helm uninstall (%v)", err)
	}
	for _, crd := range []string{"personaltokens", "deviceaccesstokens", "tokenissuers", "clustertokenissuers"} {
		var c apiextensionsv1.CustomResourceDefinition
		if err := env.client.Get(ctx, client.ObjectKey{Name: crd + "." + tokensv1alpha1.GroupVersion.Group}, &c); err != nil {
			t.Fatalf("CRD %s is gone after helm uninstall with crds.keep: %v", crd, err)
		}
	}
	time.Sleep(5 * time.Second)
	env.checkSurvivors(t, ctx, survivors, false)
	for _, deploy := range []string{"env-consumer", "volume-consumer", "crash-consumer"} {
		env.checkConsumersNeverFailed(t, deploy)
	}
}

func (e *environment) survivors(t *testing.T, ctx context.Context) []survivor {
	t.Helper()
	out := []survivor{{ns: "e2e-env", name: "runner", user: "env-bot"}, {ns: "e2e-volume", name: "reader", user: "volume-bot"},
		{ns: "e2e-crash", name: "crasher", user: "crash-bot"}}
	for i := range out {
		pt, err := e.personalToken(ctx, out[i].ns, out[i].name)
		if err != nil {
			t.Fatal(err)
		}
		var s corev1.Secret
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: pt.Namespace, Name: pt.Spec.Secret.Name}, &s); err != nil {
			t.Fatal(err)
		}
		out[i].tokenID, out[i].secretVersion = pt.Status.TokenID, s.ResourceVersion
	}
	return out
}

// checkSurvivors checks each token still has its AWX token, alive, in the same
// Secret content; and that it is Ready while an operator runs.
func (e *environment) checkSurvivors(t *testing.T, ctx context.Context, survivors []survivor, operatorRuns bool) {
	t.Helper()
	for _, s := range survivors {
		pt, err := e.personalToken(ctx, s.ns, s.name)
		if err != nil {
			t.Fatalf("PersonalToken %s/%s: %v", s.ns, s.name, err)
		}
		if pt.Status.TokenID != s.tokenID || (operatorRuns && !isReady(pt.Status.Conditions)) {
			t.Fatalf("PersonalToken %s/%s: token %d (Ready %v), want token %d and Ready", s.ns, s.name,
				pt.Status.TokenID, isReady(pt.Status.Conditions), s.tokenID)
		}
		var sec corev1.Secret
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: pt.Spec.Secret.Name}, &sec); err != nil {
			t.Fatalf("Secret %s/%s: %v", s.ns, pt.Spec.Secret.Name, err)
		}
		if sec.ResourceVersion != s.secretVersion {
			t.Fatalf("Secret %s/%s was written (resourceVersion %s, was %s)", s.ns, sec.Name, sec.ResourceVersion, s.secretVersion)
		}
		live, err := e.liveTokens(ctx, s.user)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(live, []int64{s.tokenID}) {
			t.Fatalf("AWX user %s has live tokens %v, want [%d]", s.user, live, s.tokenID)
		}
	}
}

// mintCount is how many AWX tokens were created so far.
func (e *environment) mintCount(t *testing.T) int {
	t.Helper()
	reqs, err := e.awxRequests()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range reqs {
		if r.method == "POST" && strings.HasSuffix(r.path, "/tokens/") && r.status == "201" {
			n++
		}
	}
	return n
}

// waitNewLeader waits for an operator pod started after since to hold the
// leader Lease, and returns its name.
func (e *environment) waitNewLeader(ctx context.Context, since time.Time) (string, error) {
	var leader string
	err := poll(ctx, 2*time.Minute, "a new operator pod to lead", func(ctx context.Context) (bool, error) {
		var leases coordinationv1.LeaseList
		if err := e.client.List(ctx, &leases, client.InNamespace(operatorNamespace)); err != nil {
			return false, nil
		}
		pods, err := e.pods(ctx, operatorNamespace, map[string]string{"app.kubernetes.io/name": "token-operator"})
		if err != nil {
			return false, nil
		}
		for _, l := range leases.Items {
			for _, p := range pods {
				if l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, p.Name) &&
					p.CreationTimestamp.After(since.Add(-time.Second)) && slices.Contains(p.Spec.Containers[0].Args, "--concurrency=8") {
					leader = p.Name
					return true, nil
				}
			}
		}
		return false, nil
	})
	return leader, err
}
