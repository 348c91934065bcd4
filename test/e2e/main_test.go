// Package e2e runs the operator, installed with its Helm chart, on a real
// single-node cluster (package cluster) and checks from the consumers' own logs
// that workloads reading a token's Secret keep working through rotations. Run it
// with `make e2e`, as root: without hack/e2e.sh's environment it skips.
package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/test/e2e/cluster"
)

// env is the running cluster and what the tests share in it.
var env *environment

func TestMain(m *testing.M) {
	if os.Getenv("E2E_DIR") == "" {
		fmt.Println("e2e: skipped: `make e2e` runs these tests on a real cluster (as root)")
		os.Exit(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	var err error
	env, err = setUp(ctx, cluster.Config{
		Dir:          os.Getenv("E2E_DIR"),
		ControlPlane: os.Getenv("E2E_CONTROL_PLANE"),
		Node:         os.Getenv("E2E_NODE"),
		NodeIP:       os.Getenv("E2E_NODE_IP"),
		PodCIDR:      os.Getenv("E2E_POD_CIDR"),
		ServiceCIDR:  os.Getenv("E2E_SERVICE_CIDR"),
		SandboxImage: pauseImage,
		Images:       strings.Fields(os.Getenv("E2E_IMAGES")),
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: setting up:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestScenarios runs the scenarios in order: the last one upgrades and
// uninstalls the operator, and checks that the tokens of the others survive.
func TestScenarios(t *testing.T) {
	for _, s := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"EnvConsumersThroughThreeRotations", testEnvConsumers},
		{"VolumeConsumerRefreshedInPlace", testVolumeConsumer},
		{"OperatorKilledMidRotation", testOperatorKilled},
		{"DeviceAccessTokenConsumersRestarted", testDeviceAccessToken},
		{"HelmUpgradeAndUninstall", testHelmUpgradeAndUninstall},
	} {
		if !t.Run(s.name, s.run) {
			env.saveOperatorLogs(t)
		}
	}
}
