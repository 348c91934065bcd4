// Package argocd checks the Argo CD health scripts under
// config/argocd/resource_customizations: on objects the real operator drives into
// each state on a real kube-apiserver, and on the fixtures of their health_test.yaml,
// which `go test ./test/argocd -update` writes from those objects.
package argocd

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// update rewrites each kind's health_test.yaml and testdata from the live objects.
var update = flag.Bool("update", false, "rewrite the health_test.yaml files and their testdata from the objects the operator reconciles")

var (
	ctx       = context.Background()
	cfg       *rest.Config
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	flag.Parse()
	allAtOnce()
	env, c, err := testenv.Start("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed to start the control plane:", err)
		os.Exit(1)
	}
	cfg = c
	if k8sClient, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, "failed to create a client:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "failed to stop the control plane:", err)
	}
	os.Exit(code)
}

// allAtOnce runs every parallel scenario at once unless -parallel says otherwise:
// they wait for the operator and the test servers, not for a CPU, and the
// default (GOMAXPROCS) would queue their waits one behind the other.
func allAtOnce() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "64")
	}
}
