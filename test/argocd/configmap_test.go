package argocd

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// TestArgoCDConfigMapPatch applies the argocd-cm patch as docs/argocd.md says
// (`kubectl patch --type merge --patch-file`) to an Argo CD's argocd-cm, and
// checks that it keeps the settings there and adds each kind's script, verbatim,
// under the key Argo CD looks it up by.
func TestArgoCDConfigMapPatch(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "config", "argocd", "argocd-cm-patch.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	patch, err := yaml.YAMLToJSON(data)
	g.Expect(err).NotTo(HaveOccurred())

	createNamespace(t, "argocd")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: "argocd"},
		Data: map[string]string{"url": "https://argocd.example.com"}}
	g.Expect(k8sClient.Create(ctx, cm)).To(Succeed())
	g.Expect(k8sClient.Patch(ctx, cm, client.RawPatch(types.MergePatchType, patch))).To(Succeed())

	want := map[string]string{"url": "https://argocd.example.com"}
	for _, kind := range kinds {
		script, err := os.ReadFile(filepath.Join(kindDir(kind), "health.lua"))
		g.Expect(err).NotTo(HaveOccurred())
		want["resource.customizations.health."+tokensv1alpha1.GroupVersion.Group+"_"+kind] = string(script)
	}
	g.Expect(cm.Data).To(Equal(want), "run `make manifests` after editing a health.lua")
}
