// Package testenv starts the control plane (a real kube-apiserver and etcd) that
// the tests and the playground run against, the same way for every package, with
// timeouts that hold on a cold, busy 2-core machine.
package testenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Wait is how long a test waits for the operator to reach a state. Only a failing
// test waits this long; the margin covers a machine still compiling other test
// packages beside it.
const Wait = time.Minute

// startTimeout bounds the control plane's start. envtest's default (20 s) is
// shorter than a kube-apiserver's cold start on 2 cores under a parallel build.
const startTimeout = 3 * time.Minute

// ErrNoAssets says how to get the control plane the tests need.
var ErrNoAssets = errors.New("KUBEBUILDER_ASSETS is not set: run the tests with `make test`, which builds the control plane they need")

// Start starts a control plane with the CRDs under root/config/crd/bases, where
// root is the repository's top directory relative to the caller.
func Start(root string) (*envtest.Environment, *rest.Config, error) {
	return start(&envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	})
}

// StartBare starts a control plane without the operator's CRDs, for tests that
// install them as a user would.
func StartBare() (*envtest.Environment, *rest.Config, error) {
	return start(&envtest.Environment{})
}

func start(env *envtest.Environment) (*envtest.Environment, *rest.Config, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, nil, ErrNoAssets
	}
	env.ControlPlaneStartTimeout = startTimeout
	env.ControlPlaneStopTimeout = time.Minute
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, err
	}
	return env, cfg, nil
}

// NewNamespace creates a namespace of the test's own: envtest cannot delete
// namespaces, so tests never share one.
func NewNamespace(t testing.TB, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatalf("failed to create a namespace: %v", err)
	}
	return ns.Name
}

// WriteAdminKubeconfig writes, in dir, a kubeconfig of a cluster administrator
// named name, for a process of its own (kubectl, an operator binary) to reach
// env, and returns its path.
func WriteAdminKubeconfig(env *envtest.Environment, dir, name string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: name, Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", err
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}
