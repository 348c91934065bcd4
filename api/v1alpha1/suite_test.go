package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// The API tests apply manifests to a real kube-apiserver and etcd that `make test`
// builds (hack/install-envtest-assets.sh), with the CRDs generated into
// config/crd/bases, and check what the API server refuses or defaults. No
// controller runs here.
var (
	ctx       = context.Background()
	scheme    = runtime.NewScheme()
	k8sClient client.Client
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tokensv1alpha1.AddToScheme(scheme))

	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr)))
	testEnv, cfg, err := testenv.Start("../..")
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to start the test control plane: %v\n", err)
		return 1
	}
	defer func() {
		if err := testEnv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "failed to stop the test control plane: %v\n", err)
		}
	}()

	// Uncached: every read goes to the API server, so a test sees what it stored.
	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to create a client: %v\n", err)
		return 1
	}
	return m.Run()
}

func newNamespace(t *testing.T) string { return testenv.NewNamespace(t, k8sClient) }
