// Package scale measures the operator at scale on a real control plane: how
// long N PersonalTokens take to be Ready against the API server's own pace, how
// many API writes each costs, what it does once idle, and how much memory it
// holds. `make bench-scale` prints the figures; the package's test holds the
// counts (not the times) for a small N.
package scale

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// world is a control plane, an AWX test server answering in Options.AWXDelay,
// an issuer "awx" with the credentials of user "ci-bot" in a namespace, and the
// operator binary running against them as processes of its own: one, or one per
// shard.
type world struct {
	env       *envtest.Environment
	cfg       *rest.Config
	c         client.Client
	awx       *awxtest.Server
	ns        string
	dir       string
	shards    int // 0: the operator is not split
	operators []*operatorProcess
}

// operatorProcess is one operator binary running.
type operatorProcess struct {
	cmd *exec.Cmd
	log *os.File
	// metricsAddr is where it serves its metrics, in plain HTTP.
	metricsAddr string
}

const awxPassword = "scale-test-password"

func newWorld(ctx context.Context, o Options) (*world, error) {
	w := &world{shards: o.Shards}
	var err error
	if w.dir, err = os.MkdirTemp("", "token-operator-scale-"); err != nil {
		return nil, err
	}
	if w.env, w.cfg, err = testenv.Start(o.Root); err != nil {
		return nil, err
	}
	// The bench's own client is no more throttled than the operator.
	w.cfg.QPS, w.cfg.Burst = -1, 0
	if w.c, err = client.New(w.cfg, client.Options{Scheme: operator.NewScheme()}); err != nil {
		return w, err
	}
	w.awx = awxtest.NewUnstartedServer(awxtest.Options{})
	w.awx.SetDelay(o.AWXDelay)
	w.awx.Start()
	w.awx.AddUser(awxtest.User{Username: "ci-bot", Password: awxPassword})

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "scale"}}
	if err := w.c.Create(ctx, ns); err != nil {
		return w, err
	}
	w.ns = ns.Name
	for _, obj := range []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "ci-bot-login"},
			StringData: map[string]string{"username": "ci-bot", "password": awxPassword}},
		&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "awx", Labels: w.shardLabels(0)},
			Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: w.awx.URL()}}},
	} {
		if err := w.c.Create(ctx, obj); err != nil {
			return w, err
		}
	}
	return w, nil
}

// startOperator builds the operator and runs it with its default flags, but for
// the ports, plus args, once or once per shard (with its --shard); the first
// also gets firstArgs. Their logs go to files in the world's directory.
func (w *world) startOperator(root string, args, firstArgs []string) error {
	bin := filepath.Join(w.dir, "manager")
	if out, err := exec.Command("go", "build", "-o", bin, root).CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	kubeconfig, err := testenv.WriteAdminKubeconfig(w.env, w.dir, "token-operator")
	if err != nil {
		return err
	}
	for i := range max(w.shards, 1) {
		p := &operatorProcess{}
		w.operators = append(w.operators, p)
		if p.log, err = os.Create(filepath.Join(w.dir, fmt.Sprintf("manager-%d.log", i))); err != nil {
			return err
		}
		if p.metricsAddr, err = freeLoopbackAddr(); err != nil {
			return err
		}
		flags := []string{"--operator-namespace=" + w.ns, "--metrics-bind-address=" + p.metricsAddr,
			"--metrics-secure=false", "--health-probe-bind-address=0"}
		if w.shards > 0 {
			flags = append(flags, fmt.Sprintf("--shard=%s in (%s)", operator.ShardLabel, shardName(i)))
		}
		if i == 0 {
			flags = append(flags, firstArgs...)
		}
		p.cmd = exec.Command(bin, append(flags, args...)...)
		p.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		if err := p.cmd.Start(); err != nil {
			return err
		}
	}
	return nil
}

// shardName names shard i.
func shardName(i int) string { return fmt.Sprintf("shard-%d", i) }

// shardLabels put an object in shard i, when the operator is split.
func (w *world) shardLabels(i int) map[string]string {
	if w.shards == 0 {
		return nil
	}
	return map[string]string{operator.ShardLabel: shardName(i % w.shards)}
}

// reconciles counts the reconciles of PersonalTokens by result, from
// controller-runtime's metrics, summed over the operator's processes.
func (w *world) reconciles(ctx context.Context) (map[string]float64, error) {
	byResult := map[string]float64{}
	for _, p := range w.operators {
		if err := p.addReconciles(ctx, byResult); err != nil {
			return nil, err
		}
	}
	return byResult, nil
}

// addReconciles adds the process's reconciles of PersonalTokens to byResult.
func (p *operatorProcess) addReconciles(ctx context.Context, byResult map[string]float64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.metricsAddr+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return err
	}
	for _, m := range families["controller_runtime_reconcile_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["controller"] == "personaltoken-controller" && m.GetCounter().GetValue() > 0 {
			byResult[labels["result"]] += m.GetCounter().GetValue()
		}
	}
	return nil
}

// freeLoopbackAddr is a loopback address with a port free at the time of asking.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// peakRSS is the peak resident memory of each of the operator's processes,
// from the kernel.
func (w *world) peakRSS() ([]uint64, error) {
	var peaks []uint64
	for _, p := range w.operators {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
		if err != nil {
			return nil, err
		}
		peak, err := parseVmHWM(string(raw))
		if err != nil {
			return nil, err
		}
		peaks = append(peaks, peak)
	}
	return peaks, nil
}

// stopOperator kills the operator's processes and waits for them to end.
func (w *world) stopOperator() {
	for _, p := range w.operators {
		if p.cmd.Process != nil && p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	}
}

// stop stops the operator and the control plane, and removes the directory
// unless keepLog.
func (w *world) stop(keepLog bool) {
	w.stopOperator()
	for _, p := range w.operators {
		if p.log != nil {
			_ = p.log.Close()
		}
	}
	if w.awx != nil {
		w.awx.Close()
	}
	if w.env != nil {
		_ = w.env.Stop()
	}
	if !keepLog {
		_ = os.RemoveAll(w.dir)
	}
}

// waitFor polls cond every interval until it holds or ctx ends.
func waitFor(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
