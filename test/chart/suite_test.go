// Package chart installs the Helm chart the way a platform team would, on a
// real kube-apiserver without the CRDs, and runs the operator under the chart's
// ServiceAccount: a missing permission fails a test here, not in a cluster.
package chart

import (
	"context"
	"fmt"
	"os"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

var (
	ctx       = context.Background()
	cfg       *rest.Config
	k8sClient client.Client // the cluster administrator
	helm      string
)

func TestMain(m *testing.M) {
	helm = os.Getenv("HELM")
	if helm == "" {
		fmt.Fprintln(os.Stderr, "HELM is not set: run the tests with `make test`, which builds the pinned helm")
		os.Exit(1)
	}
	env, c, err := testenv.StartBare()
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed to start the control plane:", err)
		os.Exit(1)
	}
	cfg = c
	scheme := operator.NewScheme()
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	if k8sClient, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, "failed to create a client:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "failed to stop the control plane:", err)
	}
	os.Exit(code)
}

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }
