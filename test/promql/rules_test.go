// Package promql checks that the alerting rules and the dashboard's queries the
// project ships are valid PromQL, with the parser Prometheus itself runs. It is
// a module of its own so that Prometheus's dependencies stay out of the
// operator's.
package promql

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/yaml"
)

func TestAlertingRulesParse(t *testing.T) {
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Alert, Expr, For string
				}
			}
		}
	}
	readYAML(t, "../../config/prometheus/prometheus_rule.yaml", &rule)
	count := 0
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			count++
			t.Run(r.Alert, func(t *testing.T) {
				expr, err := promQL.ParseExpr(r.Expr)
				if err != nil {
					t.Fatalf("expr does not parse: %v\n%s", err, r.Expr)
				}
				if expr.Type() != parser.ValueTypeVector {
					t.Errorf("an alert's expr must give a vector, not a %s", expr.Type())
				}
				checkMetricNames(t, expr)
			})
		}
	}
	if count < 5 {
		t.Fatalf("found %d alerts, want the five of docs/metrics.md at least", count)
	}
}

func TestDashboardQueriesParse(t *testing.T) {
	raw, err := os.ReadFile("../../config/grafana/token-operator-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatal(err)
	}
	// Grafana replaces its variables before Prometheus sees the query.
	variables := strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*")
	for _, panel := range dashboard.Panels {
		for _, target := range panel.Targets {
			expr, err := promQL.ParseExpr(variables.Replace(target.Expr))
			if err != nil {
				t.Errorf("panel %q: query does not parse: %v\n%s", panel.Title, err, target.Expr)
				continue
			}
			checkMetricNames(t, expr)
		}
	}
}

// checkMetricNames fails on a selector of a metric the operator does not
// export: a typo parses, and then matches nothing.
func checkMetricNames(t *testing.T, expr parser.Expr) {
	t.Helper()
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if base, cut := strings.CutSuffix(name, suffix); cut && exported[base] {
					name = base
				}
			}
			if !exported[name] {
				t.Errorf("%s is not a metric the operator exports", vs.Name)
			}
		}
		return nil
	})
}

// promQL parses as Prometheus does by default: no experimental functions.
var promQL = parser.NewParser(parser.Options{})

// exported are the operator's metric families (internal/metrics); a test of the
// operator's module checks this list against what it registers.
var exported = readExported()

func readExported() map[string]bool {
	raw, err := os.ReadFile("../../internal/metrics/testdata/families.txt")
	if err != nil {
		panic(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			names[line] = true
		}
	}
	return names
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		t.Fatal(err)
	}
}
