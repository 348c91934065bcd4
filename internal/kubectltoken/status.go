package kubectltoken

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// detailEvents is how many of a token's events `status NAME` shows.
const detailEvents = 10

// tokenReport is what status shows of one token; -o yaml|json prints it as is.
type tokenReport struct {
	Kind            string                          `json:"kind"`
	Namespace       string                          `json:"namespace"`
	Name            string                          `json:"name"`
	Issuer          string                          `json:"issuer"`
	Ready           string                          `json:"ready"`
	Secret          string                          `json:"secret"`
	Current         string                          `json:"current,omitempty"`
	Revision        int64                           `json:"revision"`
	IssuedAt        *metav1.Time                    `json:"issuedAt,omitempty"`
	ExpiresAt       *metav1.Time                    `json:"expiresAt,omitempty"`
	RefreshExpires  *metav1.Time                    `json:"refreshTokenExpiresAt,omitempty"`
	RenewalTime     *metav1.Time                    `json:"renewalTime,omitempty"`
	RotateRequested string                          `json:"rotateRequested,omitempty"`
	PreviousTokens  []tokensv1alpha1.PreviousToken  `json:"previousTokens,omitempty"`
	SecretChangedAt *metav1.Time                    `json:"secretChangedAt,omitempty"`
	Consumers       []tokensv1alpha1.ConsumerStatus `json:"consumers,omitempty"`
	Conditions      []metav1.Condition              `json:"conditions,omitempty"`
	Events          []eventReport                   `json:"events,omitempty"`
}

func newStatusCommand(o *options) *cobra.Command {
	var (
		allNamespaces bool
		selector      string
		output        string
	)
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show tokens: issuer, Ready, expiry, renewal, tokens awaiting revocation, consumers, events",
		Long: `Show the tokens of the namespace in a table, or one token in detail: its
conditions, the previous tokens awaiting revocation, the workloads that read its
Secret, and its last events.`,
		Example: `  kubectl token status -A
  kubectl token status -n demo personaltoken/ci-runner
  kubectl token status -n demo sensor-reader -o yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if len(args) == 1 {
				if allNamespaces {
					return fmt.Errorf("a token is looked up by name in one namespace: drop -A, and give -n NAMESPACE if it is not the current one")
				}
				return o.statusOne(cmd.Context(), args[0], output)
			}
			sel, err := labels.Parse(selector)
			if err != nil {
				return fmt.Errorf("cannot parse the selector %q: %w", selector, err)
			}
			return o.statusAll(cmd.Context(), allNamespaces, sel, output)
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "List the tokens of every namespace.")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "List only the tokens with these labels, e.g. -l team=ci.")
	addOutputFlag(cmd, &output)
	return cmd
}

func (o *options) statusOne(ctx context.Context, arg, output string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	t, err := getToken(ctx, c, ns, arg)
	if err != nil {
		return err
	}
	events, err := tokenEvents(ctx, c, ns)
	if err != nil {
		return err
	}
	r := reportOf(t, events[t.obj.GetUID()], detailEvents)
	if output != "" {
		return printStructured(o.streams.Out, output, r)
	}
	return printDetail(o.streams.Out, r, issuerState(ctx, c, t), o.now())
}

func (o *options) statusAll(ctx context.Context, allNamespaces bool, selector labels.Selector, output string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ns := ""
	if !allNamespaces {
		if ns, err = o.namespace(); err != nil {
			return err
		}
	}
	tokens, err := listTokens(ctx, c, ns, selector)
	if err != nil {
		return err
	}
	events, err := tokenEvents(ctx, c, ns)
	if err != nil {
		return err
	}
	reports := make([]tokenReport, len(tokens))
	for i, t := range tokens {
		reports[i] = reportOf(t, events[t.obj.GetUID()], 1)
	}
	if output != "" {
		return printStructured(o.streams.Out, output, map[string][]tokenReport{"items": reports})
	}
	if len(reports) == 0 {
		_, err := fmt.Fprintln(o.streams.ErrOut, noTokens(ns))
		return err
	}
	printTable(o.streams.Out, reports, allNamespaces, o.now())
	return nil
}

// noTokens says, as kubectl does, that there is nothing to show.
func noTokens(ns string) string {
	if ns == "" {
		return "No tokens found."
	}
	return fmt.Sprintf("No tokens found in %s namespace.", ns)
}

// reportOf gathers what status shows of t, with its newest events (at most keep).
func reportOf(t token, events []eventReport, keep int) tokenReport {
	st := t.status()
	r := tokenReport{
		Kind: t.kind.name, Namespace: t.obj.GetNamespace(), Name: t.obj.GetName(), Issuer: t.issuer(),
		Ready: readyOf(t.obj.GetConditions()), Secret: t.obj.GetSecretTemplate().Name, Current: t.subject(),
		Revision: st.Revision, IssuedAt: st.IssuedAt, ExpiresAt: st.ExpiresAt, RenewalTime: st.RenewalTime,
		RotateRequested: t.rotatePending(), PreviousTokens: t.previousTokens(),
		SecretChangedAt: st.SecretChangedAt, Consumers: st.Consumers, Conditions: st.Conditions,
		Events: events[:min(keep, len(events))],
	}
	if dat, ok := t.obj.(*tokensv1alpha1.DeviceAccessToken); ok {
		r.RefreshExpires = dat.Status.RefreshTokenExpiresAt
	}
	return r
}

// readyOf is the Ready condition's status, with its reason when not True.
func readyOf(conditions []metav1.Condition) string {
	c := meta.FindStatusCondition(conditions, tokensv1alpha1.ReadyCondition)
	switch {
	case c == nil:
		return "Unknown"
	case c.Status == metav1.ConditionTrue:
		return "True"
	}
	return string(c.Status) + " (" + c.Reason + ")"
}

// readyMessage is the Ready condition's message.
func readyMessage(conditions []metav1.Condition) string {
	if c := meta.FindStatusCondition(conditions, tokensv1alpha1.ReadyCondition); c != nil {
		return orNone(c.Message)
	}
	return "<none>"
}

// consumersSummary is "1/2 rolled out", or <none>.
func consumersSummary(consumers []tokensv1alpha1.ConsumerStatus) string {
	if len(consumers) == 0 {
		return "<none>"
	}
	done := 0
	for _, c := range consumers {
		if c.RolledOut {
			done++
		}
	}
	return fmt.Sprintf("%d/%d rolled out", done, len(consumers))
}

// printTable prints one line per token.
func printTable(w io.Writer, reports []tokenReport, withNamespace bool, now time.Time) {
	tw := newTable(w)
	header := []string{"NAME", "ISSUER", "READY", "SECRET", "EXPIRES", "RENEWS", "AWAITING REVOCATION", "CONSUMERS", "LAST EVENT"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	row(tw, header...)
	for _, r := range reports {
		revocation := fmt.Sprint(len(r.PreviousTokens))
		if r.Kind == deviceAccessTokenKind.name {
			revocation = "-" // DeviceHive cannot revoke a token
		}
		last := "<none>"
		if len(r.Events) > 0 {
			last = r.Events[0].Reason + " " + relative(r.Events[0].LastSeen, now)
		}
		cells := []string{kindRef(r.Kind, r.Name), r.Issuer, r.Ready, r.Secret, relativeOrNone(r.ExpiresAt, now),
			renews(r, now), revocation, consumersSummary(r.Consumers), last}
		if withNamespace {
			cells = append([]string{r.Namespace}, cells...)
		}
		row(tw, cells...)
	}
	_ = tw.Flush()
}

// renews is when the token is renewed; "requested" when a rotate annotation waits.
func renews(r tokenReport, now time.Time) string {
	if r.RotateRequested != "" {
		return "requested"
	}
	return relativeOrNone(r.RenewalTime, now)
}

// kindRef is personaltoken/NAME for a Kind and a name.
func kindRef(kind, name string) string {
	for _, k := range tokenKinds {
		if k.name == kind {
			return k.resource + "/" + name
		}
	}
	return name
}
