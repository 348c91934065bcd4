// Package cluster starts a real single-node Kubernetes cluster for the end-to-end
// tests: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd
// and a kubelet, all built or installed by hack/, inside the network namespace
// hack/e2e.sh made, with every address in it. Pods get a bridge and addresses of
// PodCIDR; nothing routes out of the namespace. There is no kube-proxy and no DNS:
// pods reach the API server and the test servers at NodeIP.
package cluster

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// NodeName is the one node's name.
const NodeName = "e2e-node"

// Config says where the cluster's parts are and which addresses it uses.
type Config struct {
	// Dir holds the cluster's state, certificates, configuration and logs, and
	// the pid file hack/e2e.sh stops processes by.
	Dir string
	// ControlPlane holds kube-apiserver and etcd; Node holds kubelet,
	// kube-controller-manager and kube-scheduler.
	ControlPlane, Node string
	// NodeIP is the node's address in the namespace; the API server serves on it.
	NodeIP string
	// PodCIDR and ServiceCIDR are the pods' and Services' ranges.
	PodCIDR, ServiceCIDR string
	// SandboxImage is the pod sandbox image, imported with Images.
	SandboxImage string
	// Images are image archives to import into containerd.
	Images []string
}

// Cluster is a running cluster.
type Cluster struct {
	cfg Config
	pki *pki
	// exited lists the processes that ended, with how.
	mu     sync.Mutex
	exited []string
	// Kubeconfig is the admin's kubeconfig file; Rest the same as a rest.Config.
	Kubeconfig string
	Rest       *rest.Config
}

// Start brings the cluster up to a Ready node. On error the processes already
// started are left to hack/e2e.sh to stop.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c := &Cluster{cfg: cfg}
	for _, d := range []string{"logs", "etcd", "kubelet"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	err := RunSteps(ctx, "cluster", []Step{
		{Name: "certificates", Run: c.writeCertificates},
		{Name: "etcd", Run: c.startEtcd},
		{Name: "kube-apiserver", Run: c.startAPIServer},
		{Name: "kube-controller-manager and kube-scheduler", Run: c.startControllers},
		{Name: "containerd", Run: c.startContainerd},
		{Name: "image import", Run: c.importImages},
		{Name: "kubelet", Run: c.startKubelet},
		{Name: "node Ready", Run: c.waitNodeReady},
	})
	if err != nil {
		return c, fmt.Errorf("%w (logs in %s)", err, filepath.Join(cfg.Dir, "logs"))
	}
	return c, nil
}

func (c *Cluster) path(parts ...string) string {
	return filepath.Join(append([]string{c.cfg.Dir}, parts...)...)
}

func (c *Cluster) apiServerURL() string { return "https://" + c.cfg.NodeIP + ":6443" }

func (c *Cluster) writeCertificates(context.Context) error {
	p, err := newPKI(c.path("pki"))
	if err != nil {
		return err
	}
	c.pki = p
	serviceIP, err := firstServiceIP(c.cfg.ServiceCIDR)
	if err != nil {
		return err
	}
	issues := []struct {
		name    string
		subject pkix.Name
		hosts   []string
	}{
		{"apiserver", pkix.Name{CommonName: "kube-apiserver"}, []string{c.cfg.NodeIP, serviceIP, "127.0.0.1", "localhost",
			"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}},
		{"apiserver-kubelet-client", pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}}, nil},
		{"admin", pkix.Name{CommonName: "e2e-admin", Organization: []string{"system:masters"}}, nil},
		{"controller-manager", pkix.Name{CommonName: "system:kube-controller-manager"}, nil},
		{"scheduler", pkix.Name{CommonName: "system:kube-scheduler"}, nil},
		{"kubelet-client", pkix.Name{CommonName: "system:node:" + NodeName, Organization: []string{"system:nodes"}}, nil},
		{"kubelet-serving", pkix.Name{CommonName: NodeName}, []string{c.cfg.NodeIP, NodeName}},
	}
	for _, i := range issues {
		if err := p.issue(i.name, i.subject, i.hosts...); err != nil {
			return err
		}
	}
	if err := p.serviceAccountKeys(); err != nil {
		return err
	}
	for _, k := range []string{"admin", "controller-manager", "scheduler", "kubelet-client"} {
		if err := c.writeKubeconfig(k); err != nil {
			return err
		}
	}
	c.Kubeconfig = c.path("pki", "admin.kubeconfig")
	c.Rest, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	// Let the API server, not client-side throttling, set the pace of the tests.
	c.Rest.QPS, c.Rest.Burst = -1, -1
	return nil
}

// writeKubeconfig writes pki/NAME.kubeconfig for the client certificate NAME.
func (c *Cluster) writeKubeconfig(name string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: c.apiServerURL(), CertificateAuthority: c.pki.path("ca.crt")}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificate: c.pki.path(name + ".crt"), ClientKey: c.pki.path(name + ".key")}
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: name}
	cfg.CurrentContext = "e2e"
	return clientcmd.WriteToFile(*cfg, c.pki.path(name+".kubeconfig"))
}

// firstServiceIP is the address the kubernetes Service gets: the range's first.
func firstServiceIP(cidr string) (string, error) {
	base, _, ok := strings.Cut(cidr, "/")
	parts := strings.Split(base, ".")
	if !ok || len(parts) != 4 {
		return "", fmt.Errorf("service range %q is not an IPv4 CIDR", cidr)
	}
	parts[3] = "1"
	return strings.Join(parts, "."), nil
}

func (c *Cluster) startEtcd(context.Context) error {
	return c.start("etcd", filepath.Join(c.cfg.ControlPlane, "etcd"),
		"--data-dir", c.path("etcd"), "--name", "e2e",
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "e2e=http://127.0.0.1:2380", "--unsafe-no-fsync")
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	p := c.pki.path
	if err := c.start("kube-apiserver", filepath.Join(c.cfg.ControlPlane, "kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--bind-address", "0.0.0.0", "--secure-port", "6443", "--advertise-address", c.cfg.NodeIP,
		"--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"),
		"--client-ca-file", p("ca.crt"),
		"--kubelet-client-certificate", p("apiserver-kubelet-client.crt"), "--kubelet-client-key", p("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority", p("ca.crt"), "--kubelet-preferred-address-types", "InternalIP",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", p("sa.pub"), "--service-account-signing-key-file", p("sa.key"),
		"--service-cluster-ip-range", c.cfg.ServiceCIDR,
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--allow-privileged=true"); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Rest)
	if err != nil {
		return err
	}
	return c.poll(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

func (c *Cluster) startControllers(context.Context) error {
	p := c.pki.path
	if err := c.start("kube-controller-manager", filepath.Join(c.cfg.Node, "kube-controller-manager"),
		"--kubeconfig", p("controller-manager.kubeconfig"), "--leader-elect=false",
		"--bind-address", "127.0.0.1",
		"--service-account-private-key-file", p("sa.key"), "--root-ca-file", p("ca.crt"),
		"--use-service-account-credentials=true", "--service-cluster-ip-range", c.cfg.ServiceCIDR); err != nil {
		return err
	}
	return c.start("kube-scheduler", filepath.Join(c.cfg.Node, "kube-scheduler"),
		"--kubeconfig", p("scheduler.kubeconfig"), "--leader-elect=false", "--bind-address", "127.0.0.1")
}

func (c *Cluster) waitNodeReady(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Rest)
	if err != nil {
		return err
	}
	return c.poll(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				return cond.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
}

func (c *Cluster) poll(ctx context.Context, timeout time.Duration, done wait.ConditionWithContextFunc) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if err := c.died(); err != nil {
			return false, err
		}
		return done(ctx)
	})
}

// Step is a named step of bringing something up.
type Step struct {
	Name string
	Run  func(context.Context) error
}

// RunSteps runs steps in order and says how long each took, on standard error
// after who; it stops at the first that fails, naming it.
func RunSteps(ctx context.Context, who string, steps []Step) error {
	for _, s := range steps {
		start := time.Now()
		if err := s.Run(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %s in %s\n", who, s.Name, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
