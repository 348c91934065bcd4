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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// survivor is what a token of the earlier scenarios must still be after an
// upgrade and an uninstall: the same AWX token in the same Secret.
type survivor struct {
	ns, name, user        string
	tokenID               int64
	secret, secretVersion string
}

// testHelmUpgradeAndUninstall: `helm upgrade` with a changed value replaces the
// operator's pod; the new one rotates a token as the old one did, and takes over
// the others without minting or writing anything. `helm uninstall` (crds.keep,
// the default) removes the operator and leaves the CRDs, the tokens, their
// Secrets and their AWX tokens, and the consumers keep working.
func testHelmUpgradeAndUninstall(t *testing.T) {
	ctx := scenarioContext(t, 10*time.Minute)
	survivors := env.survivors(t, ctx)
	minted := env.mintCount(t)
	if minted < 9 {
		t.Fatalf("the AWX server's log shows %d tokens minted, fewer than the earlier scenarios did", minted)
	}

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
	// A rotation done by the new pod shows it has synced and works; by then it
	// has also looked at every other token, at start.
	pt, err := env.personalToken(ctx, "e2e-env", "runner")
	if err != nil {
		t.Fatal(err)
	}
	pt = env.rotateEnvConsumed(t, ctx, pt, "env-consumer", nil)
	env.checkSurvivors(t, ctx, survivors, true)
	if n := env.mintCount(t); n != minted+1 {
		t.Fatalf("the upgraded operator minted %d AWX tokens, want 1 (the rotation)", n-minted)
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
	// The consumers keep calling a while with no operator.
	time.Sleep(5 * time.Second)
	env.checkSurvivors(t, ctx, append(survivors, env.survivor(t, ctx, pt.Namespace, pt.Name, "env-bot")), false)
	for _, deploy := range []string{"env-consumer", "volume-consumer", "crash-consumer"} {
		env.checkConsumersNeverFailed(t, ctx, deploy)
	}
}

// survivors are the tokens of scenarios 2 to 4 as they are now.
func (e *environment) survivors(t *testing.T, ctx context.Context) []survivor {
	t.Helper()
	return []survivor{e.survivor(t, ctx, "e2e-volume", "reader", "volume-bot"), e.survivor(t, ctx, "e2e-crash", "crasher", "crash-bot"),
		e.survivor(t, ctx, "e2e-dh", "sensor", "")}
}

// survivor records a PersonalToken (of AWX user user), or a DeviceAccessToken
// (when user is empty), and its Secret's version.
func (e *environment) survivor(t *testing.T, ctx context.Context, ns, name, user string) survivor {
	t.Helper()
	s := survivor{ns: ns, name: name, user: user}
	var secret string
	if user == "" {
		var dat tokensv1alpha1.DeviceAccessToken
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &dat); err != nil {
			t.Fatal(err)
		}
		secret = dat.Spec.Secret.Name
	} else {
		pt, err := e.personalToken(ctx, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		s.tokenID, secret = pt.Status.TokenID, pt.Spec.Secret.Name
	}
	var sec corev1.Secret
	if err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: secret}, &sec); err != nil {
		t.Fatal(err)
	}
	s.secret, s.secretVersion = secret, sec.ResourceVersion
	return s
}

// checkSurvivors checks each token still has the same Secret content and, for
// a PersonalToken, the same AWX token, alive; and that it is Ready while an
// operator runs.
func (e *environment) checkSurvivors(t *testing.T, ctx context.Context, survivors []survivor, operatorRuns bool) {
	t.Helper()
	for _, s := range survivors {
		var sec corev1.Secret
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.secret}, &sec); err != nil {
			t.Fatalf("Secret %s/%s: %v", s.ns, s.secret, err)
		}
		if sec.ResourceVersion != s.secretVersion {
			t.Fatalf("Secret %s/%s was written (resourceVersion %s, was %s)", s.ns, s.secret, sec.ResourceVersion, s.secretVersion)
		}
		var conds []metav1.Condition
		if s.user == "" {
			var dat tokensv1alpha1.DeviceAccessToken
			if err := e.client.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.name}, &dat); err != nil {
				t.Fatalf("DeviceAccessToken %s/%s: %v", s.ns, s.name, err)
			}
			conds = dat.Status.Conditions
		} else {
			pt, err := e.personalToken(ctx, s.ns, s.name)
			if err != nil {
				t.Fatalf("PersonalToken %s/%s: %v", s.ns, s.name, err)
			}
			if pt.Status.TokenID != s.tokenID {
				t.Fatalf("PersonalToken %s/%s is on token %d, was %d", s.ns, s.name, pt.Status.TokenID, s.tokenID)
			}
			live, err := e.liveTokens(ctx, s.user)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(live, []int64{s.tokenID}) {
				t.Fatalf("AWX user %s has live tokens %v, want [%d]", s.user, live, s.tokenID)
			}
			conds = pt.Status.Conditions
		}
		if operatorRuns && !isReady(conds) {
			t.Fatalf("%s/%s is not Ready", s.ns, s.name)
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
		// POST /api/v2/users/{id}/personal_tokens/ (or /api/v2/tokens/), 201 Created.
		if r.method == "POST" && strings.HasSuffix(r.path, "tokens/") && r.status == "201" {
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
