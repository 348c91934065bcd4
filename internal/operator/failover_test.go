package operator

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFailover runs the operator binary twice, as two replicas would run, with
// leader election on: the leader is SIGKILLed in the middle of a mint whose
// create AWX commits after the leader's death; the replica that takes over must
// leave exactly one live token, the one in the Secret.
func TestFailover_TheLeaderDiesInTheMiddleOfAMint(t *testing.T) {
	g := NewWithT(t)
	env, cfg, err := testenv.Start("../..")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	dir := t.TempDir()
	kubeconfig, err := testenv.WriteAdminKubeconfig(env, dir, "failover-admin")
	g.Expect(err).NotTo(HaveOccurred())
	manager := filepath.Join(dir, "manager")
	build := exec.Command("go", "build", "-o", manager, "../..")
	out, err := build.CombinedOutput()
	g.Expect(err).NotTo(HaveOccurred(), "go build: %s", out)

	c, err := client.New(cfg, client.Options{Scheme: NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "failover-"}}
	g.Expect(c.Create(ctx, ns)).To(Succeed())
	srv := awxtest.NewServer(t, awxtest.Options{Flavor: awxtest.FlavorController})
	srv.AddUser(awxtest.User{Username: "ci-bot", Password: "failover-password"})
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "ci-bot-login"},
			StringData: map[string]string{"username": "ci-bot", "password": "failover-password"}},
		&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "awx"},
			Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: srv.URL()}}},
	} {
		g.Expect(c.Create(ctx, obj)).To(Succeed())
	}

	const remoteTimeout = 2 * time.Second
	start := func(name string) (*exec.Cmd, *lockedBuffer) {
		logs := &lockedBuffer{}
		cmd := exec.Command(manager, "--leader-elect", "--operator-namespace="+ns.Name, "--metrics-bind-address=0",
			"--health-probe-bind-address=0", "--remote-timeout="+remoteTimeout.String())
		cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "POD_NAMESPACE="+ns.Name)
		cmd.Stdout, cmd.Stderr = logs, logs
		g.Expect(cmd.Start()).To(Succeed())
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("%s's log:\n%s", name, logs.String())
			}
		})
		return cmd, logs
	}

	leader, _ := start("the leader")
	// The leader's create reaches AWX, which commits it after the leader is gone.
	srv.DelayNext(awxtest.KindCreate, remoteTimeout+remoteTimeout/2)
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "ci-runner"},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: "ci-runner-awx"}},
		},
	}
	g.Expect(c.Create(ctx, pt)).To(Succeed())
	g.Eventually(func() int { return srv.Calls(awxtest.KindCreate) }).WithTimeout(testenv.Wait).Should(Equal(1), "the leader is minting")
	g.Expect(leader.Process.Signal(syscall.SIGKILL)).To(Succeed())
	_, _ = leader.Process.Wait()

	start("the replica")
	// The replica takes the Lease once the dead leader's expires (15 s).
	g.Eventually(func(g Gomega) {
		got := &tokensv1alpha1.PersonalToken{}
		g.Expect(c.Get(ctx, client.ObjectKeyFromObject(pt), got)).To(Succeed())
		g.Expect(got.Status.PendingMint).To(BeNil())
		g.Expect(got.Status.TokenID).NotTo(BeZero())
		live := srv.LiveTokens("ci-bot")
		g.Expect(live).To(HaveLen(1), "exactly one live token")
		g.Expect(live[0].ID).To(Equal(got.Status.TokenID))
		secret := &corev1.Secret{}
		g.Expect(c.Get(ctx, client.ObjectKey{Namespace: ns.Name, Name: "ci-runner-awx"}, secret)).To(Succeed())
		g.Expect(string(secret.Data["CONTROLLER_OAUTH_TOKEN"])).To(Equal(live[0].Value), "the Secret holds it")
	}).WithTimeout(2 * testenv.Wait).WithPolling(200 * time.Millisecond).Should(Succeed())
	g.Expect(srv.Calls(awxtest.KindCreate)).To(Equal(2), "the late create, and the replica's own")
}
