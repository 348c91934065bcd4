package argocd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// recordFixtures, with -update, writes states as kind's testdata and
// health_test.yaml. Otherwise it checks that the committed cases are these
// states, with the same statuses: a state added, dropped or judged otherwise
// needs -update.
func recordFixtures(t *testing.T, kind string, states []state) {
	t.Helper()
	g := NewWithT(t)
	sort.Slice(states, func(i, j int) bool { return states[i].fixture < states[j].fixture })
	if *update {
		g.Expect(writeFixtures(kind, states)).To(Succeed())
		return
	}
	data, err := os.ReadFile(filepath.Join(kindDir(kind), "health_test.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var committed healthTests
	g.Expect(yaml.Unmarshal(data, &committed)).To(Succeed())
	want := map[string]string{}
	for _, s := range states {
		want[inputPath(s)] = s.want.Status
	}
	got := map[string]string{}
	for _, tc := range committed.Tests {
		got[tc.InputPath] = tc.HealthStatus.Status
	}
	g.Expect(got).To(Equal(want), "the cases of %s/health_test.yaml: run `go test ./test/argocd -update`", kind)
}

// writeFixtures replaces kind's testdata and health_test.yaml with states.
func writeFixtures(kind string, states []state) error {
	testdata := filepath.Join(kindDir(kind), "testdata")
	old, err := filepath.Glob(filepath.Join(testdata, "*.yaml"))
	if err != nil {
		return err
	}
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	var cases bytes.Buffer
	cases.WriteString("# Written by `go test ./test/argocd -update` from objects the operator brought into each state.\ntests:\n")
	for _, s := range states {
		obj := normalize(s)
		data, err := yaml.Marshal(obj.Object)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(kindDir(kind), inputPath(s)), data, 0o644); err != nil {
			return err
		}
		// The message is normalized as the object it comes from was.
		fmt.Fprintf(&cases, "- healthStatus:\n    status: %s\n    message: %s\n  inputPath: %s\n",
			s.want.Status, quoted(normalizeMessage(s.want.Message, s.hosts)), inputPath(s))
	}
	return os.WriteFile(filepath.Join(kindDir(kind), "health_test.yaml"), cases.Bytes(), 0o644)
}

func inputPath(s state) string { return "testdata/" + s.fixture + ".yaml" }

// quoted is s as a YAML double-quoted scalar, which JSON strings are.
func quoted(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
