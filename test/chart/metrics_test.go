package chart

import (
	"os"
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

func TestChart_MetricsAreServedSecurelyByDefault(t *testing.T) {
	g := NewWithT(t)
	objs := mustRender(t, "token-operator", "token-operator-system")
	g.Expect(managerArgs(t, objs)).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true"))
	g.Expect(names(find(objs, "ClusterRole"))).To(ContainElements("token-operator-metrics-auth", "token-operator-metrics-reader"))
	g.Expect(names(find(objs, "ClusterRoleBinding"))).To(ContainElement("token-operator-metrics-auth"))
	install(t, "token-operator-system", objs)
	reader := &rbacv1.ClusterRole{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "token-operator-metrics-reader"}, reader)).To(Succeed())
	g.Expect(reader.Rules).To(ConsistOf(rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}))
}

func TestChart_PlainMetricsNeedNoAuthRole(t *testing.T) {
	g := NewWithT(t)
	objs := mustRender(t, "token-operator", "token-operator-system", "metrics.secure=false", "metrics.port=8080")
	g.Expect(managerArgs(t, objs)).To(ContainElements("--metrics-bind-address=:8080", "--metrics-secure=false"))
	g.Expect(names(find(objs, "ClusterRole"))).NotTo(ContainElement(ContainSubstring("metrics")))
}

func TestChart_AlertsDashboardAndCertificate(t *testing.T) {
	g := NewWithT(t)
	objs := mustRender(t, "tokens", "monitoring-tokens", "metrics.serviceMonitor.enabled=true",
		"metrics.prometheusRule.enabled=true", "metrics.grafanaDashboard.enabled=true", "metrics.certSecretName=metrics-tls")

	rules := find(objs, "PrometheusRule")
	g.Expect(rules).To(HaveLen(1))
	g.Expect(rules[0].Object["spec"]).To(Equal(specOf(t, "../../config/prometheus/prometheus_rule.yaml")),
		"the chart's alerts are config/prometheus's")

	monitor := find(objs, "ServiceMonitor")[0]
	endpoints, _, _ := unstructured.NestedSlice(monitor.Object, "spec", "endpoints")
	g.Expect(endpoints).To(ConsistOf(HaveKeyWithValue("scheme", "https")))

	dashboard, err := os.ReadFile("../../config/grafana/token-operator-dashboard.json")
	g.Expect(err).NotTo(HaveOccurred())
	var configMap *unstructured.Unstructured
	for _, cm := range find(objs, "ConfigMap") {
		if cm.GetName() == "tokens-token-operator-dashboard" {
			configMap = cm
		}
	}
	g.Expect(configMap).NotTo(BeNil())
	g.Expect(configMap.GetLabels()).To(HaveKeyWithValue("grafana_dashboard", "1"))
	g.Expect(configMap.Object["data"]).To(HaveKeyWithValue("token-operator.json", MatchJSON(dashboard)))

	g.Expect(managerArgs(t, objs)).To(ContainElement("--metrics-cert-dir=/etc/token-operator/metrics-certs"))
	install(t, "monitoring-tokens", objs, "ServiceMonitor", "PrometheusRule")
	d := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "monitoring-tokens", Name: "tokens-token-operator"}, d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.Volumes).To(ContainElement(HaveField("Secret.SecretName", "metrics-tls")))
}

// managerArgs are the manager container's arguments in the rendered Deployment.
func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(objs, "Deployment")[0].Object, d); err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Spec.Containers[0].Args
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

// specOf is the spec of the object in the YAML file at path.
func specOf(t *testing.T, path string) any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	return obj["spec"]
}
