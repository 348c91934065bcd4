package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// containerdConfig keeps every file of containerd's under Dir, runs runc with
// cgroupfs (the machines have cgroup v1 and no systemd), and lets runc keep the
// OOM score it may not lower without CAP_SYS_RESOURCE.
const containerdConfig = `version = 2
root = "{{dir}}/containerd/root"
state = "{{dir}}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "{{dir}}/containerd/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "{{dir}}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{sandbox}}"
  restrict_oom_score_adj = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{{dir}}/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{{dir}}/cni/net.d"
`

// cniConfig puts pods on a bridge whose address is their default gateway: the
// namespace has no route out, so they reach only the node's addresses and each
// other.
const cniConfig = `{
  "cniVersion": "1.0.0",
  "name": "e2e",
  "plugins": [{
    "type": "bridge",
    "bridge": "e2ebr0",
    "isGateway": true,
    "isDefaultGateway": true,
    "ipMasq": false,
    "hairpinMode": true,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "{{podCIDR}}"}]], "dataDir": "{{dir}}/cni/ipam"}
  }]
}
`

// kubeletConfig: cgroup v1 with cgroupfs, the API server's certificate checked
// both ways, every file under Dir, and eviction and image garbage collection that
// a busy shared disk does not set off (the images cannot be pulled again).
const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: {{nodeIP}}
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: "{{dir}}/pki/ca.crt"}
authorization: {mode: AlwaysAllow}
tlsCertFile: "{{dir}}/pki/kubelet-serving.crt"
tlsPrivateKeyFile: "{{dir}}/pki/kubelet-serving.key"
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: "unix://{{dir}}/containerd/containerd.sock"
podLogsDir: "{{dir}}/pod-logs"
clusterDomain: cluster.local
resolvConf: ""
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {"memory.available": "100Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%", "imagefs.available": "1%"}
`

func (c *Cluster) render(tmpl string) string {
	return strings.NewReplacer("{{dir}}", c.cfg.Dir, "{{sandbox}}", c.cfg.SandboxImage,
		"{{podCIDR}}", c.cfg.PodCIDR, "{{nodeIP}}", c.cfg.NodeIP).Replace(tmpl)
}

func (c *Cluster) writeFile(content string, parts ...string) (string, error) {
	path := c.path(parts...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(c.render(content)), 0o644)
}

func (c *Cluster) containerdSocket() string { return c.path("containerd", "containerd.sock") }

func (c *Cluster) startContainerd(ctx context.Context) error {
	cfg, err := c.writeFile(containerdConfig, "containerd", "config.toml")
	if err != nil {
		return err
	}
	if _, err := c.writeFile(cniConfig, "cni", "net.d", "10-e2e.conflist"); err != nil {
		return err
	}
	if err := c.start("containerd", "containerd", "--config", cfg); err != nil {
		return err
	}
	return c.poll(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		return exec.CommandContext(ctx, "ctr", "--address", c.containerdSocket(), "version").Run() == nil, nil
	})
}

// importImages loads the image archives into the namespace the kubelet's pods
// use: the cluster has no registry, so pods run them with imagePullPolicy Never.
func (c *Cluster) importImages(ctx context.Context) error {
	for _, archive := range c.cfg.Images {
		out, err := exec.CommandContext(ctx, "ctr", "--address", c.containerdSocket(), "-n", "k8s.io",
			"images", "import", archive).CombinedOutput()
		if err != nil {
			return fmt.Errorf("importing %s: %w: %s", archive, err, out)
		}
	}
	return nil
}

func (c *Cluster) startKubelet(context.Context) error {
	cfg, err := c.writeFile(kubeletConfig, "kubelet", "config.yaml")
	if err != nil {
		return err
	}
	return c.start("kubelet", filepath.Join(c.cfg.Node, "kubelet"),
		"--config", cfg, "--kubeconfig", c.pki.path("kubelet-client.kubeconfig"),
		"--root-dir", c.path("kubelet"), "--cert-dir", c.path("kubelet", "pki"),
		"--hostname-override", NodeName, "--node-ip", c.cfg.NodeIP)
}
