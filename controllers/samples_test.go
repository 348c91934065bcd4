package controllers

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// TestSamples_AreAccepted applies every manifest of config/samples, as a user trying
// the operator would, so the samples can never drift from the schema.
func TestSamples_AreAccepted(t *testing.T) {
	ns := newNamespace(t)
	files, err := filepath.Glob(filepath.Join("..", "config", "samples", "tokens_*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples found: %v", err)
	}
	kinds := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			for _, doc := range strings.Split(string(data), "\n---\n") {
				obj := manifest(t, "", doc, "")
				kinds[obj.GetKind()] = true
				mapping, err := k8sClient.RESTMapper().RESTMapping(obj.GroupVersionKind().GroupKind())
				g.Expect(err).NotTo(HaveOccurred())
				if mapping.Scope.Name() == "namespace" {
					obj.SetNamespace(ns)
				}
				g.Expect(k8sClient.Create(ctx, obj)).To(Succeed(), "sample %s", file)
			}
		})
	}
	NewWithT(t).Expect(kinds).To(HaveLen(4), "a sample of each kind")
}
