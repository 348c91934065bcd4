// Command kubectl-token is the kubectl plugin of token-operator: `kubectl token
// status|rotate|inspect|plan`. Put it on your PATH and kubectl finds it.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/tokenoperator/token-operator/internal/kubectltoken"
)

func main() {
	if err := kubectltoken.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
