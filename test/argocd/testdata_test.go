package argocd

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// healthTests is a health_test.yaml, in the format of Argo CD's own scripts.
type healthTests struct {
	Tests []healthTest `json:"tests"`
}

type healthTest struct {
	HealthStatus health `json:"healthStatus"`
	InputPath    string `json:"inputPath"`
}

// TestHealthScripts_Fixtures runs every case of every kind's health_test.yaml, as
// Argo CD's own test of its scripts does, and requires each kind to have cases
// of the three statuses. It runs after TestHealthScripts_LiveObjects (go test
// runs files in name order), so -update checks the cases it has just written.
func TestHealthScripts_Fixtures(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			g := NewWithT(t)
			data, err := os.ReadFile(filepath.Join(kindDir(kind), "health_test.yaml"))
			g.Expect(err).NotTo(HaveOccurred())
			var tests healthTests
			g.Expect(yaml.UnmarshalStrict(data, &tests)).To(Succeed())
			statuses := map[string]bool{}
			for _, tc := range tests.Tests {
				statuses[tc.HealthStatus.Status] = true
				t.Run(tc.InputPath, func(t *testing.T) {
					g := NewWithT(t)
					data, err := os.ReadFile(filepath.Join(kindDir(kind), tc.InputPath))
					g.Expect(err).NotTo(HaveOccurred())
					obj := map[string]any{}
					g.Expect(yaml.Unmarshal(data, &obj)).To(Succeed())
					g.Expect(obj).To(HaveKeyWithValue("kind", kind))
					g.Expect(runHealth(kind, obj)).To(Equal(tc.HealthStatus))
				})
			}
			g.Expect(statuses).To(Equal(map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true}))
		})
	}
}
