package argocd

import (
	"context"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// operatorNamespace holds the Secrets that ClusterTokenIssuers name.
const operatorNamespace = "token-operator-system"

// kindTest drives objects of one kind into each state, in scenarios that run at once.
type kindTest struct {
	kind string
	// namespace holds the kind's objects and the Secrets they share; empty for
	// the cluster-scoped kind.
	namespace string
	// secrets are created before the scenarios run.
	secrets []*corev1.Secret
	// scenarios each bring objects into one or more states, and capture them.
	scenarios map[string]func(w *world)
}

// TestHealthScripts_LiveObjects runs the operator's manager against the test
// servers, brings objects of every kind into each state, and checks what each
// kind's health script says of them as Argo CD would read them from the cluster.
// With -update, the states become the kind's health_test.yaml and testdata.
func TestHealthScripts_LiveObjects(t *testing.T) {
	startManager(t)
	for _, kt := range []kindTest{personalTokenTest(), deviceAccessTokenTest(), tokenIssuerTest(), clusterTokenIssuerTest()} {
		t.Run(kt.kind, func(t *testing.T) {
			t.Parallel()
			if kt.namespace != "" {
				createNamespace(t, kt.namespace)
			}
			for _, s := range kt.secrets {
				NewWithT(t).Expect(k8sClient.Create(ctx, s)).To(Succeed())
			}
			var mu sync.Mutex
			var states []state
			// A group, so that its parallel scenarios have all ended when it returns.
			t.Run("scenarios", func(t *testing.T) {
				for name, drive := range kt.scenarios {
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						w := &world{t: t, kind: kt.kind, ns: kt.namespace, hosts: map[string]string{}}
						drive(w)
						mu.Lock()
						defer mu.Unlock()
						states = append(states, w.states...)
					})
				}
			})
			if !t.Failed() {
				recordFixtures(t, kt.kind, states)
			}
		})
	}
}

// startManager runs the operator's manager, as the binary wires it, until the
// test ends.
func startManager(t *testing.T) {
	t.Helper()
	g := NewWithT(t)
	createNamespace(t, operatorNamespace)
	mgr, err := operator.NewManager(cfg, operator.Options{
		MetricsAddr: "0",
		ProbeAddr:   "0",
		KubeAPIQPS:  -1,
		Concurrency: 8,
		// Two calls in flight fill an issuer: the issuerBusy scenarios hang two.
		RemoteCallsPerIssuer: 2,
		OperatorNamespace:    operatorNamespace,
		Logger:               testenv.Logger(t, nil),
	})
	g.Expect(err).NotTo(HaveOccurred())
	mgrCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(mgrCtx) }()
	t.Cleanup(func() {
		cancel()
		g.Expect(<-stopped).To(Succeed(), "the manager stops cleanly")
	})
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	NewWithT(t).Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
}
