// Package kubectltoken is the kubectl plugin of token-operator (cmd/kubectl-token):
// status, rotate, inspect and plan over PersonalTokens and DeviceAccessTokens. It
// reads what the operator records in status, Secrets and events, and never prints
// a token value unless asked to with --show-values.
package kubectltoken

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// options are what every command shares: how to reach the cluster, where to print,
// and the clock relative times are computed from.
type options struct {
	config  *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
	now     func() time.Time
}

// NewCommand returns the plugin's root command, `kubectl token`.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	o := &options{config: genericclioptions.NewConfigFlags(true), streams: streams, now: time.Now}
	root := &cobra.Command{
		Use:   "kubectl-token",
		Short: "Look at and rotate the tokens token-operator keeps (PersonalToken, DeviceAccessToken)",
		Long: `Look at and rotate the tokens token-operator keeps.

A token is named KIND/NAME (personaltoken/NAME, deviceaccesstoken/NAME, or the
short names ptoken/NAME and dat/NAME), or by its bare NAME when only one kind
has a token of that name in the namespace.`,
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl token"},
		// Errors are printed once, by main; a usage dump would hide them.
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	o.config.AddFlags(root.PersistentFlags())
	root.AddCommand(newStatusCommand(o), newRotateCommand(o), newInspectCommand(o), newPlanCommand(o))
	return root
}

// client is an uncached client with the operator's scheme: every command reads
// once, or polls, so a cache would only cost a list of everything.
func (o *options) client() (client.Client, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("cannot load the kubeconfig: %w", err)
	}
	return client.New(cfg, client.Options{Scheme: scheme()})
}

// namespace is the namespace of -n, else of the kubeconfig's context.
func (o *options) namespace() (string, error) {
	ns, _, err := o.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("cannot read the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// scheme is the operator's (internal/operator.NewScheme), built here so that
// the plugin does not link every controller of the operator: a third of its size.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(tokensv1alpha1.AddToScheme(s))
	return s
}
