package kubectltoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// rotatePoll is how often --wait reads the tokens it waits for.
const rotatePoll = 500 * time.Millisecond

type rotateOptions struct {
	*options
	all, allNamespaces, wait bool
	selector                 string
	timeout                  time.Duration
}

func newRotateCommand(o *options) *cobra.Command {
	r := &rotateOptions{options: o}
	cmd := &cobra.Command{
		Use:   "rotate (NAME... | --all | -l SELECTOR)",
		Short: "Have the operator replace tokens now; with --wait, wait until their Secrets hold the new ones",
		Long: `Set the tokenoperator.io/rotate annotation of each token to the current time
(RFC 3339): the operator mints a new token, writes it into the Secret, and revokes
the old one as it does at any rotation. With --wait, return once every Secret holds
its new token (status.lastHandledRotateAt equals the value set), and fail when
--timeout passes first.`,
		Example: `  kubectl token rotate -n demo personaltoken/ci-runner --wait
  kubectl token rotate -n iot --all
  kubectl token rotate -A -l team=ci --wait --timeout 5m`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return r.run(cmd.Context(), args)
		},
	}
	cmd.Flags().BoolVar(&r.all, "all", false, "Rotate every token of the namespace (of every namespace with -A).")
	cmd.Flags().BoolVarP(&r.allNamespaces, "all-namespaces", "A", false, "With --all or -l, select tokens in every namespace.")
	cmd.Flags().StringVarP(&r.selector, "selector", "l", "", "Rotate the tokens with these labels, e.g. -l team=ci.")
	cmd.Flags().BoolVar(&r.wait, "wait", false, "Wait until each Secret holds its new token.")
	cmd.Flags().DurationVar(&r.timeout, "timeout", 2*time.Minute, "With --wait, how long to wait before giving up.")
	return cmd
}

func (r *rotateOptions) run(ctx context.Context, names []string) error {
	byName := len(names) > 0
	switch {
	case byName && (r.all || r.selector != ""):
		return errors.New("name tokens or select them with --all or -l, not both")
	case byName && r.allNamespaces:
		return errors.New("tokens are named in one namespace: drop -A, and give -n NAMESPACE if it is not the current one")
	case !byName && !r.all && r.selector == "":
		return errors.New("say which tokens to rotate: name them, or select them with --all or -l SELECTOR")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	tokens, err := r.selectTokens(ctx, c, names)
	if err != nil {
		return err
	}
	value := r.now().UTC().Format(time.RFC3339Nano)
	for _, t := range tokens {
		if err := requestRotation(ctx, c, t, value); err != nil {
			return err
		}
		fmt.Fprintf(r.streams.Out, "%s: rotation requested (%s=%s)\n", r.display(t), tokensv1alpha1.RotateAnnotation, value)
	}
	if !r.wait {
		return nil
	}
	return r.waitRotated(ctx, c, tokens, value)
}

// selectTokens reads the named tokens, or lists those --all or -l select.
func (r *rotateOptions) selectTokens(ctx context.Context, c client.Client, names []string) ([]token, error) {
	ns := ""
	if !r.allNamespaces {
		var err error
		if ns, err = r.namespace(); err != nil {
			return nil, err
		}
	}
	if len(names) == 0 {
		sel, err := labels.Parse(r.selector)
		if err != nil {
			return nil, fmt.Errorf("cannot parse the selector %q: %w", r.selector, err)
		}
		tokens, err := listTokens(ctx, c, ns, sel)
		if err == nil && len(tokens) == 0 {
			err = errors.New(strings.TrimSuffix(noTokens(ns), ".") + " to rotate: check -n, -A and -l")
		}
		return tokens, err
	}
	tokens := make([]token, 0, len(names))
	for _, name := range names {
		t, err := getToken(ctx, c, ns, name)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, t)
	}
	return tokens, nil
}

// requestRotation sets the rotate annotation with a merge patch, which touches
// no other field and needs no resourceVersion.
func requestRotation(ctx context.Context, c client.Client, t token, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{tokensv1alpha1.RotateAnnotation: value}}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, t.obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("cannot annotate %s: %w", t.ref(), err)
	}
	return nil
}

// waitRotated waits until every token has committed a token minted for value:
// the operator records the annotation value a new token answers in
// status.lastHandledRotateAt in the same write that commits it, after the Secret
// holds it.
func (r *rotateOptions) waitRotated(ctx context.Context, c client.Client, tokens []token, value string) error {
	pending := tokens
	err := wait.PollUntilContextTimeout(ctx, rotatePoll, r.timeout, false, func(ctx context.Context) (bool, error) {
		var still []token
		for _, t := range pending {
			err := c.Get(ctx, client.ObjectKeyFromObject(t.obj), t.obj)
			switch {
			case apierrors.IsNotFound(err):
				return false, fmt.Errorf("%s was deleted before it rotated", r.display(t))
			case err != nil || t.status().LastHandledRotateAt != value:
				// A failed read is tried again at the next poll.
				still = append(still, t)
				continue
			}
			fmt.Fprintf(r.streams.Out, "%s: rotated: %s (revision %d) is in Secret %q\n", r.display(t), t.subject(), t.status().Revision, t.status().SecretName)
		}
		pending = still
		return len(pending) == 0, nil
	})
	if err == nil || len(pending) == 0 {
		return err
	}
	if !wait.Interrupted(err) {
		return err
	}
	states := make([]string, len(pending))
	for i, t := range pending {
		states[i] = fmt.Sprintf("%s (Ready %s: %s)", r.display(t), readyOf(t.obj.GetConditions()), readyMessage(t.obj.GetConditions()))
	}
	what, hint := "token", "kubectl token status"
	if len(pending) == 1 {
		hint += " " + pending[0].ref()
	} else {
		what += "s"
	}
	return fmt.Errorf("timed out after %s waiting for the new %s of %s: see `%s` and the operator's logs",
		r.timeout, what, strings.Join(states, ", "), hint)
}

// display names a token in rotate's output: with its namespace under -A.
func (r *rotateOptions) display(t token) string {
	if r.allNamespaces {
		return t.obj.GetNamespace() + "/" + t.ref()
	}
	return t.ref()
}
