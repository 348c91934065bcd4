package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/test/e2e/cluster"
)

const (
	pauseImage    = "e2e.local/pause:1"
	awxImage      = "e2e.local/awxserver:1"
	consumerImage = "e2e.local/consumer:1"

	operatorNamespace = "token-operator-system"
	releaseName       = "token-operator"
	awxPort           = "8052"
	awxAdmin          = "admin"
	awxAdminPassword  = "admin-password"
	// issuerName is the ClusterTokenIssuer of the AWX test server.
	issuerName = "awx"
)

// awxUsers are the AWX users, one per scenario, so that each scenario counts
// only its own tokens; each password is the name with "-password".
var awxUsers = []string{"env-bot", "volume-bot", "crash-bot"}

// environment is the cluster with the AWX test server and the operator running.
type environment struct {
	cluster *cluster.Cluster
	client  client.Client
	nodeIP  string
	// consumerLogDir holds each consumer pod's log, NAME.log; awxLogDir the AWX
	// server's request log. Both are host directories mounted into the pods.
	consumerLogDir, awxLogDir string
	chart, helm, image        string
}

func setUp(ctx context.Context, cfg cluster.Config) (*environment, error) {
	c, err := cluster.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The operator's scheme, and CRDs for the uninstall scenario.
	scheme := operator.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	cl, err := client.New(c.Rest, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	e := &environment{
		cluster: c, client: cl, nodeIP: cfg.NodeIP,
		consumerLogDir: filepath.Join(cfg.Dir, "logs", "consumers"),
		awxLogDir:      filepath.Join(cfg.Dir, "logs", "awx"),
		chart:          os.Getenv("E2E_CHART"), helm: os.Getenv("HELM"), image: os.Getenv("E2E_OPERATOR_IMAGE"),
	}
	for _, d := range []string{e.consumerLogDir, e.awxLogDir} {
		// The pods run as a user of their own.
		if err := os.MkdirAll(d, 0o777); err != nil {
			return nil, err
		}
		if err := os.Chmod(d, 0o777); err != nil {
			return nil, err
		}
	}
	return e, cluster.RunSteps(ctx, "e2e", []cluster.Step{
		{Name: "AWX test server", Run: e.startAWX},
		{Name: "operator (helm install)", Run: e.installOperator},
		{Name: "ClusterTokenIssuer", Run: e.createIssuer},
	})
}

func (e *environment) awxURL() string { return "http://" + e.nodeIP + ":" + awxPort }

// startAWX runs the AWX test server on the node's network, where every pod
// reaches it at NodeIP: the cluster has no kube-proxy and no DNS.
func (e *environment) startAWX(ctx context.Context) error {
	args := []string{"-listen=" + e.nodeIP + ":" + awxPort, "-log=/logs/awx.log", "-admin=" + awxAdmin + ":" + awxAdminPassword}
	for _, u := range awxUsers {
		args = append(args, "-user="+u+":"+u+"-password")
	}
	if err := e.apply(ctx, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: e2e-awx}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: awx, namespace: e2e-awx}
spec:
  replicas: 1
  selector: {matchLabels: {app: awx}}
  template:
    metadata: {labels: {app: awx}}
    spec:
      hostNetwork: true
      containers:
      - name: awx
        image: %s
        imagePullPolicy: Never
        args: [%s]
        volumeMounts: [{name: logs, mountPath: /logs}]
      volumes:
      - {name: logs, hostPath: {path: %q, type: Directory}}
`, awxImage, strings.Join(quoteAll(args), ", "), e.awxLogDir)); err != nil {
		return err
	}
	return poll(ctx, 2*time.Minute, "the AWX test server to answer", func(ctx context.Context) (bool, error) {
		_, err := awxTokens(ctx, e.awxURL(), awxAdmin, awxAdminPassword)
		return err == nil, nil
	})
}

// installOperator installs the chart as a user would, with the image imported
// into the node, and the API server's address: without kube-proxy the
// kubernetes Service's address leads nowhere.
func (e *environment) installOperator(ctx context.Context) error {
	repo, tag, _ := strings.Cut(e.image, ":")
	args := []string{"install", releaseName, e.chart, "--namespace", operatorNamespace, "--create-namespace",
		"--set", "image.repository=" + repo, "--set", "image.tag=" + tag, "--set", "image.pullPolicy=Never",
		"--set", "extraEnv[0].name=KUBERNETES_SERVICE_HOST", "--set", "extraEnv[0].value=" + e.nodeIP,
		"--set-string", "extraEnv[1].name=KUBERNETES_SERVICE_PORT", "--set-string", "extraEnv[1].value=6443",
		"--wait", "--timeout", "3m"}
	// E2E_HELM_ARGS tries the scenarios with other values (the defaults are what they hold for).
	return e.runHelm(ctx, append(args, strings.Fields(os.Getenv("E2E_HELM_ARGS"))...)...)
}

func (e *environment) runHelm(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, e.helm, append(args, "--kubeconfig", e.cluster.Kubeconfig)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("helm %s: %w: %s", args[0], err, out)
	}
	return nil
}

func (e *environment) createIssuer(ctx context.Context) error {
	if err := e.apply(ctx, fmt.Sprintf(`
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: ClusterTokenIssuer
metadata: {name: %s}
spec:
  awx: {url: %q, api: Controller}
  policy: {allowedScopes: [read, write]}
`, issuerName, e.awxURL())); err != nil {
		return err
	}
	return poll(ctx, 2*time.Minute, "the ClusterTokenIssuer to be Ready", func(ctx context.Context) (bool, error) {
		var iss tokensv1alpha1.ClusterTokenIssuer
		if err := e.client.Get(ctx, client.ObjectKey{Name: issuerName}, &iss); err != nil {
			return false, nil
		}
		return isReady(iss.Status.Conditions), nil
	})
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// poll checks done every 250 ms until it holds, failing with what it waited for.
func poll(ctx context.Context, timeout time.Duration, what string, done wait.ConditionWithContextFunc) error {
	if err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, done); err != nil {
		return fmt.Errorf("waiting %s for %s: %w", timeout, what, err)
	}
	return nil
}

// saveOperatorLogs copies the running operator pods' logs to logs/, which
// hack/e2e.sh keeps: the kubelet removes a pod's log with the pod, and a later
// scenario may replace the pod.
func (e *environment) saveOperatorLogs(t *testing.T) {
	cs, err := kubernetes.NewForConfig(e.cluster.Rest)
	if err != nil {
		t.Log(err)
		return
	}
	ctx := context.Background()
	pods, err := e.pods(ctx, operatorNamespace, map[string]string{"app.kubernetes.io/name": "token-operator"})
	if err != nil {
		t.Log(err)
		return
	}
	for _, p := range pods {
		body, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
		if err != nil {
			t.Logf("the log of operator pod %s: %v", p.Name, err)
			continue
		}
		path := filepath.Join(filepath.Dir(e.awxLogDir), "operator-"+p.Name+".log")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Log(err)
			continue
		}
		t.Logf("operator pod %s's log kept in bin/e2e-logs/%s", p.Name, filepath.Base(path))
	}
}
