package operator

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// processWorld runs the operator binary as its own process against a control
// plane of the test's own and an AWX test server, with an issuer "awx" and
// ci-bot's credentials in namespace ns.
type processWorld struct {
	t          *testing.T
	c          client.Client
	ns         string
	awx        *awxtest.Server
	manager    string // the binary
	kubeconfig string
}

func newProcessWorld(t *testing.T) *processWorld {
	t.Helper()
	env, cfg, err := testenv.Start("../..")
	if err != nil {
		t.Fatalf("failed to start the control plane: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	dir := t.TempDir()
	w := &processWorld{t: t, manager: filepath.Join(dir, "manager")}
	if w.kubeconfig, err = testenv.WriteAdminKubeconfig(env, dir, "process-admin"); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", w.manager, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if w.c, err = client.New(cfg, client.Options{Scheme: NewScheme()}); err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "process-"}}
	w.create(ns)
	w.ns = ns.Name
	w.awx = awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorController})
	w.awx.AddUser(awxtest.User{Username: "ci-bot", Password: "process-test-password"})
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "ci-bot-login"},
		StringData: map[string]string{"username": "ci-bot", "password": "process-test-password"}})
	w.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "awx"},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: w.awx.URL()}}})
	return w
}

func (w *processWorld) create(obj client.Object) {
	w.t.Helper()
	if err := w.c.Create(context.Background(), obj); err != nil {
		w.t.Fatalf("failed to create %T: %v", obj, err)
	}
}

// personalToken creates a PersonalToken of ci-bot in the Secret <name>-awx, after mutate.
func (w *processWorld) personalToken(name string, mutate func(*tokensv1alpha1.PersonalToken)) *tokensv1alpha1.PersonalToken {
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name + "-awx"}},
		},
	}
	if mutate != nil {
		mutate(pt)
	}
	w.create(pt)
	return pt
}

// start runs the operator binary with args; its log is shown if the test fails.
func (w *processWorld) start(name string, args ...string) *exec.Cmd {
	w.t.Helper()
	logs := &testenv.LockedBuffer{}
	cmd := exec.Command(w.manager, append([]string{"--operator-namespace=" + w.ns, "--metrics-bind-address=0",
		"--health-probe-bind-address=0"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+w.kubeconfig, "POD_NAMESPACE="+w.ns)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if w.t.Failed() {
			w.t.Logf("%s's log (last 20000 bytes):\n%s", name, tail(logs.String(), 20000))
		}
	})
	return cmd
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
