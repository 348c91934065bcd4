package controllers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// The suite runs against a real kube-apiserver and etcd that `make test` builds
// (hack/install-envtest-assets.sh), with the CRDs generated into config/crd/bases.
var (
	ctx       = context.Background()
	scheme    = runtime.NewScheme()
	cfg       *rest.Config
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tokensv1alpha1.AddToScheme(scheme))

	// Every log line of the suite, debug included, is kept for the leak check;
	// each test's manager also logs to the test (token_harness_test.go).
	ctrl.SetLogger(zap.New(zap.WriteTo(syncWriter{}), zap.Level(zapcore.Level(-5))))
	testEnv, restConfig, err := testenv.Start("..")
	cfg = restConfig
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to start the test control plane: %v\n", err)
		return 1
	}
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "failed to stop the test control plane: %v\n", err)
		}
	}()

	k8sClient, err = client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to create a client: %v\n", err)
		return 1
	}
	code := m.Run()
	if leaks := findLeaks(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: token values leaked into logs or events:\n%s\n", strings.Join(leaks, "\n"))
		return 1
	}
	return code
}

// newNamespace creates a namespace of the test's own.
func newNamespace(t *testing.T) string { return testenv.NewNamespace(t, k8sClient) }
