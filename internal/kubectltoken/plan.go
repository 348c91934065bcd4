package kubectltoken

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
)

// planItem is one thing the operator will do within the window.
type planItem struct {
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace"`
	Token     string    `json:"token"`
	Action    string    `json:"action"`
	Why       string    `json:"why"`
}

type planOptions struct {
	*options
	within        time.Duration
	allNamespaces bool
	selector      string
	output        string
}

func newPlanCommand(o *options) *cobra.Command {
	p := &planOptions{options: o}
	cmd := &cobra.Command{
		Use:   "plan [--within 24h]",
		Short: "List what will rotate or be revoked within a window, and why, by time",
		Long: `List, by time, each token whose renewal falls within the window (and why: its
maxAge, the time left before it expires, a pending rotate annotation, or a renewal
already overdue), and each replaced AWX token whose revocation falls within it
(its revokeAt, its revokeBy, and the consumers it waits on). It reads the
tokens' status as the operator last wrote it.`,
		Example: `  kubectl token plan -n demo
  kubectl token plan -A --within 168h -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return p.run(cmd.Context())
		},
	}
	cmd.Flags().DurationVar(&p.within, "within", 24*time.Hour, "The window, from now.")
	cmd.Flags().BoolVarP(&p.allNamespaces, "all-namespaces", "A", false, "Plan the tokens of every namespace.")
	cmd.Flags().StringVarP(&p.selector, "selector", "l", "", "Plan only the tokens with these labels, e.g. -l team=ci.")
	addOutputFlag(cmd, &p.output)
	return cmd
}

func (p *planOptions) run(ctx context.Context) error {
	if err := checkOutput(p.output); err != nil {
		return err
	}
	if p.within <= 0 {
		return fmt.Errorf("--within must be positive, e.g. --within 24h")
	}
	sel, err := labels.Parse(p.selector)
	if err != nil {
		return fmt.Errorf("cannot parse the selector %q: %w", p.selector, err)
	}
	c, err := p.client()
	if err != nil {
		return err
	}
	ns := ""
	if !p.allNamespaces {
		if ns, err = p.namespace(); err != nil {
			return err
		}
	}
	tokens, err := listTokens(ctx, c, ns, sel)
	if err != nil {
		return err
	}
	now := p.now()
	var items []planItem
	for _, t := range tokens {
		items = append(items, planToken(t, now, now.Add(p.within))...)
	}
	slices.SortStableFunc(items, func(a, b planItem) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Token, b.Token))
	})
	if p.output != "" {
		return printStructured(p.streams.Out, p.output, map[string]any{"within": shortDuration(p.within), "items": items})
	}
	if len(items) == 0 {
		_, err := fmt.Fprintf(p.streams.Out, "Nothing rotates or is revoked within %s.\n", shortDuration(p.within))
		return err
	}
	printPlan(p.streams.Out, items, p.allNamespaces, now)
	return nil
}

// planToken is what is due for t before horizon: its renewal, and the
// revocations of its replaced tokens.
func planToken(t token, now, horizon time.Time) []planItem {
	var items []planItem
	item := func(at time.Time, action, why string) {
		items = append(items, planItem{Time: at, Namespace: t.obj.GetNamespace(), Token: t.ref(), Action: action, Why: why})
	}
	if at, why, due := renewalPlan(t, now, horizon); due {
		action := "rotate"
		if t.status().Revision == 0 {
			action = "issue"
		}
		item(at, action, why)
	}
	for _, prev := range t.previousTokens() {
		if prev.RevokeAt.After(horizon) {
			continue
		}
		item(prev.RevokeAt.Time, fmt.Sprintf("revoke token %d", prev.ID), revocationWhy(t, prev, now))
	}
	return items
}

// printPlan prints the items by time.
func printPlan(w io.Writer, items []planItem, withNamespace bool, now time.Time) {
	tw := newTable(w)
	header := []string{"WHEN", "TOKEN", "ACTION", "WHY"}
	if withNamespace {
		header = []string{"WHEN", "NAMESPACE", "TOKEN", "ACTION", "WHY"}
	}
	row(tw, header...)
	for _, it := range items {
		cells := []string{stamp(it.Time, now), it.Token, it.Action, it.Why}
		if withNamespace {
			cells = []string{stamp(it.Time, now), it.Namespace, it.Token, it.Action, it.Why}
		}
		row(tw, cells...)
	}
	_ = tw.Flush()
}
