package chart

import (
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestChart_DefaultValuesInstall(t *testing.T) {
	g := NewWithT(t)
	objs := mustRender(t, "token-operator", "token-operator-system")
	install(t, "token-operator-system", objs)

	g.Expect(find(objs, "CustomResourceDefinition")).To(HaveLen(4))
	for _, crd := range find(objs, "CustomResourceDefinition") {
		g.Expect(crd.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"), "crds.keep is on by default")
	}
	d := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "token-operator-system", Name: "token-operator"}, d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal("token-operator"))
	manager := d.Spec.Template.Spec.Containers[0]
	g.Expect(manager.Image).To(Equal("ghcr.io/tokenoperator/token-operator:0.1.0"), "the tag defaults to the appVersion")
	g.Expect(manager.Args).To(ContainElements("--leader-elect=true", "--leader-election-namespace=token-operator-system"))
	g.Expect(manager.Env).To(ContainElement(SatisfyAll(HaveField("Name", "GOMEMLIMIT"),
		HaveField("ValueFrom.ResourceFieldRef.ContainerName", manager.Name), HaveField("ValueFrom.ResourceFieldRef.Resource", "limits.memory"))),
		"Go's soft memory limit is the container's")
	// Restricted Pod Security.
	g.Expect(*d.Spec.Template.Spec.SecurityContext.RunAsNonRoot).To(BeTrue())
	g.Expect(*manager.SecurityContext.AllowPrivilegeEscalation).To(BeFalse())
	g.Expect(manager.SecurityContext.Capabilities.Drop).To(ConsistOf(corev1.Capability("ALL")))
	g.Expect(*manager.SecurityContext.ReadOnlyRootFilesystem).To(BeTrue())
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "token-operator-system", Name: "token-operator-metrics"}, &corev1.Service{})).To(Succeed())
	g.Expect(find(objs, "ServiceMonitor")).To(BeEmpty())
	g.Expect(find(objs, "PodDisruptionBudget")).To(BeEmpty())
}

func TestChart_NonDefaultValuesInstall(t *testing.T) {
	g := NewWithT(t)
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	objs := mustRender(t, "tokens", "platform-tokens",
		"replicaCount=2", "image.repository=registry.example/token-operator", "image.digest="+digest,
		"crds.enabled=false", "serviceAccount.name=token-robot", "podDisruptionBudget.enabled=true",
		"metrics.serviceMonitor.enabled=true", "extraArgs={--zap-log-level=debug}",
		"extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy.example:3128",
		"priorityClassName=system-cluster-critical", "leaderElection.enabled=false",
		"shard=sharding.tokenoperator.io/key in (shard1)", "resources.limits=null")
	g.Expect(find(objs, "CustomResourceDefinition")).To(BeEmpty(), "crds.enabled=false installs no CRD")
	g.Expect(find(objs, "ServiceMonitor")).To(HaveLen(1))
	install(t, "platform-tokens", objs, "ServiceMonitor")

	d := &appsv1.Deployment{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "platform-tokens", Name: "tokens-token-operator"}, d)).To(Succeed())
	g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
	g.Expect(d.Spec.Template.Spec.ServiceAccountName).To(Equal("token-robot"))
	g.Expect(d.Spec.Template.Spec.PriorityClassName).To(Equal("system-cluster-critical"))
	manager := d.Spec.Template.Spec.Containers[0]
	g.Expect(manager.Image).To(Equal("registry.example/token-operator@" + digest))
	g.Expect(manager.Args).To(ContainElement("--shard=sharding.tokenoperator.io/key in (shard1)"))
	g.Expect(manager.Args).To(ContainElements("--leader-elect=true", "--zap-log-level=debug"),
		"more than one replica needs leader election whatever leaderElection.enabled says")
	g.Expect(manager.Env).To(ContainElement(corev1.EnvVar{Name: "HTTPS_PROXY", Value: "http://proxy.example:3128"}))
	g.Expect(manager.Env).NotTo(ContainElement(HaveField("Name", "GOMEMLIMIT")), "no memory limit, no soft limit")
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "platform-tokens", Name: "token-robot"}, &corev1.ServiceAccount{})).To(Succeed())
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "platform-tokens", Name: "tokens-token-operator"}, &policyv1.PodDisruptionBudget{})).To(Succeed())
}

func TestChart_ValuesSchemaRefusesWrongValues(t *testing.T) {
	cases := map[string]string{
		"replicaCount=two":                 "replicaCount",
		"image.pullPolicy=Sometimes":       "pullPolicy",
		"crds.enabled=maybe":               "enabled",
		"remoteTimeout=thirty":             "remoteTimeout",
		"image.digest=latest":              "digest",
		"metrics.port=0":                   "port",
		"replicaCuont=2":                   "replicaCuont",
		"consumers.restartWindow=ten secs": "restartWindow",
	}
	for set, field := range cases {
		t.Run(set, func(t *testing.T) {
			_, err := render("token-operator", "token-operator-system", set)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(field)))
		})
	}
}
