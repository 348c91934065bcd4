package playground

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestSamples_BecomeReady applies every manifest of config/samples, as the
// playground does, to a real API server running the whole operator, with the test
// servers on random ports, and waits for every token to be Ready.
func TestSamples_BecomeReady(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	servers := NewServers()
	servers.AWX.Start()
	servers.DeviceHive.Start()
	defer servers.Close()

	env, cfg, err := testenv.Start("../..")
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = env.Stop() }()

	mgr, err := operator.NewManager(cfg, operator.Options{MetricsAddr: "0", ProbeAddr: "0", KubeAPIQPS: -1, Concurrency: 2,
		RemoteTimeout: 5 * time.Second, OperatorNamespace: operator.DefaultOperatorNamespace, Logger: testenv.Logger(t, nil)})
	g.Expect(err).NotTo(HaveOccurred())
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()
	defer func() { cancel(); g.Expect(<-stopped).To(Succeed()) }()

	c, err := client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operator.DefaultOperatorNamespace}})).To(Succeed())
	objs, err := LoadManifests(filepath.Join("..", "..", "config", "samples"), servers.URLs())
	g.Expect(err).NotTo(HaveOccurred())

	var tokens []*unstructured.Unstructured
	kinds := map[string]bool{}
	for _, obj := range objs {
		g.Expect(c.Create(ctx, obj)).To(Succeed(), "%s %s", obj.GetKind(), obj.GetName())
		kinds[obj.GetKind()] = true
		if obj.GetKind() == "PersonalToken" || obj.GetKind() == "DeviceAccessToken" {
			tokens = append(tokens, obj)
		}
	}
	g.Expect(kinds).To(HaveKey("TokenIssuer"))
	g.Expect(kinds).To(HaveKey("ClusterTokenIssuer"))
	g.Expect(kinds).To(HaveKey("PersonalToken"))
	g.Expect(kinds).To(HaveKey("DeviceAccessToken"))

	for _, token := range tokens {
		g.Eventually(func(g Gomega) {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(token.GroupVersionKind())
			g.Expect(c.Get(ctx, client.ObjectKeyFromObject(token), got)).To(Succeed())
			var status struct {
				Status struct {
					Conditions []metav1.Condition `json:"conditions"`
				} `json:"status"`
			}
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, &status)).To(Succeed())
			ready := meta.FindStatusCondition(status.Status.Conditions, tokensv1alpha1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil(), "%s %s has no Ready condition yet", token.GetKind(), token.GetName())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s %s: %s", token.GetKind(), token.GetName(), ready.Message)
		}).WithTimeout(testenv.Wait).Should(Succeed(), "%s %s becomes Ready", token.GetKind(), token.GetName())
	}
	g.Expect(servers.AWX.LiveTokens(AWXUser)).To(HaveLen(1))
}
