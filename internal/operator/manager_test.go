package operator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestManager starts the manager as the operator binary does, against a real API
// server.
func TestManager(t *testing.T) {
	g := NewWithT(t)
	testEnv, cfg, err := testenv.Start("../..")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = testEnv.Stop() })

	direct, err := client.New(cfg, client.Options{Scheme: NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "operator-"}}
	g.Expect(direct.Create(context.Background(), ns)).To(Succeed())

	probeAddr := freeLoopbackAddr(t)
	mgr, err := NewManager(cfg, Options{
		MetricsAddr:       "0",
		ProbeAddr:         probeAddr,
		LeaderElect:       true,
		OperatorNamespace: ns.Name, // and so the Lease's, outside a cluster
		KubeAPIQPS:        -1,
		Concurrency:       1,
		Logger:            testenv.Logger(t, nil),
	})
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		g.Expect(<-stopped).To(Succeed(), "the manager stops cleanly")
	})

	t.Run("serves health and readiness probes", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			NewWithT(t).Eventually(func() (int, error) {
				resp, err := http.Get(fmt.Sprintf("http://%s%s", probeAddr, path))
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				return resp.StatusCode, nil
			}).WithTimeout(testenv.Wait).Should(Equal(http.StatusOK), path)
		}
	})

	t.Run("elects itself leader on a Lease", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(mgr.Elected()).WithTimeout(testenv.Wait).Should(BeClosed())
		var lease coordinationv1.Lease
		g.Expect(direct.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "token-operator.tokenoperator.io"}, &lease)).To(Succeed())
		g.Expect(lease.Spec.HolderIdentity).NotTo(BeNil())
	})

	t.Run("caches only the Secrets the operator owns", func(t *testing.T) {
		g := NewWithT(t)
		foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses", Namespace: ns.Name}}
		owned := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ours", Namespace: ns.Name,
			Labels: map[string]string{tokensv1alpha1.ManagedByLabel: tokensv1alpha1.ManagedByValue}}}
		g.Expect(direct.Create(ctx, foreign)).To(Succeed())
		g.Expect(direct.Create(ctx, owned)).To(Succeed())

		// Watch events arrive in order: once the later Secret is cached, the earlier
		// one would be too, had the cache taken it.
		g.Eventually(func() error {
			return mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(owned), &corev1.Secret{})
		}).WithTimeout(testenv.Wait).Should(Succeed())
		err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(foreign), &corev1.Secret{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "want the unlabelled Secret outside the cache, got: %v", err)
	})
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("failed to find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
