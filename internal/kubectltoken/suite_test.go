package kubectltoken_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// The plugin runs in-process against a real kube-apiserver and etcd, with the
// operator's manager reconciling the tokens the tests create, and reaches them
// through a kubeconfig as a user's kubectl would.
var (
	ctx         = context.Background()
	k8sClient   client.Client
	kubeconfig  string
	operatorLog = &testenv.LockedBuffer{} // shown by a test that fails
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	env, cfg, err := testenv.Start("../..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed to start the control plane:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	if k8sClient, err = client.New(cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, "failed to create a client:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-token-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if kubeconfig, err = testenv.WriteAdminKubeconfig(env, dir, "plugin-user"); err != nil {
		fmt.Fprintln(os.Stderr, "failed to write a kubeconfig:", err)
		return 1
	}
	stop, err := startOperator(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed to start the operator:", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startOperator runs the operator's manager, as the binary wires it; one per
// process, since controller names must be unique in it.
func startOperator(cfg *rest.Config) (stop func(), err error) {
	mgr, err := operator.NewManager(cfg, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", KubeAPIQPS: -1, Concurrency: 2, RemoteTimeout: 5 * time.Second,
		OperatorNamespace: "token-operator-system",
		Logger:            zap.New(zap.WriteTo(operatorLog), zap.UseDevMode(true)),
	})
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	return func() { cancel(); <-done }, nil
}
