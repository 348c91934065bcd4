package kubectltoken

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"
)

// newTable is a writer of kubectl-style columns: cells separated by tabs,
// padded by three spaces. Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0) }

// row writes one line of cells to a table.
func row(w io.Writer, cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")) }

// relative is how far t is from now, as kubectl prints ages: "in 59s", "3m ago".
func relative(t, now time.Time) string {
	if t.Before(now) {
		return age(t, now) + " ago"
	}
	return "in " + age(now, t)
}

// age is how long from since to until, as kubectl prints it: "59s", "3m", "999y".
func age(since, until time.Time) string {
	// A time.Duration ends at 292 years; AWX tokens live about 1000.
	if until.After(since.AddDate(100, 0, 0)) {
		years := until.Year() - since.Year()
		if until.AddDate(-years, 0, 0).Before(since) {
			years--
		}
		return fmt.Sprintf("%dy", years)
	}
	return duration.HumanDuration(until.Sub(since))
}

// relativeOrNone is relative for a time that may be unset.
func relativeOrNone(t *metav1.Time, now time.Time) string {
	if t == nil {
		return "<none>"
	}
	return relative(t.Time, now)
}

// stamp is an RFC 3339 time followed by how far it is from now.
func stamp(t time.Time, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// stampOrNone is stamp for a time that may be unset.
func stampOrNone(t *metav1.Time, now time.Time) string {
	if t == nil {
		return "<none>"
	}
	return stamp(t.Time, now)
}

// orNone is s, or <none> as kubectl prints an empty cell.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// addOutputFlag adds -o for the commands that can print yaml or json.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "", "Output format: yaml or json. A table when unset.")
}

// checkOutput refuses an output format the commands cannot print.
func checkOutput(output string) error {
	switch output {
	case "", "yaml", "json":
		return nil
	}
	return fmt.Errorf("unknown output format %q: use -o yaml or -o json, or leave -o out for a table", output)
}

// printStructured prints v as yaml or json.
func printStructured(w io.Writer, output string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if output == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
	} else {
		data = append(data, '\n')
	}
	_, err = w.Write(data)
	return err
}
