// Command playground runs token-operator on this machine with no cluster, no AWX
// and no DeviceHive of your own: the pinned local control plane (the one the tests
// use), the AWX and DeviceHive test servers on loopback, the samples of
// config/samples, and the manager, all in one process. `make run` starts it when
// no cluster answers. Ctrl-C stops everything and removes what it wrote.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/operator"
	"github.com/tokenoperator/token-operator/internal/playground"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

func main() {
	samples := flag.String("samples", "config/samples", "Directory of the manifests to apply.")
	flag.Parse()
	ctx := ctrl.SetupSignalHandler()
	if err := run(ctx, *samples); err != nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, samples string) error {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: start the playground with `make run`")
	}
	dir, err := os.MkdirTemp("", "token-operator-playground-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(filepath.Join(dir, "operator.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	ctrl.SetLogger(zap.New(zap.WriteTo(logFile), zap.UseDevMode(true)))

	servers := playground.NewServers()
	if err := servers.StartOnSampleAddrs(); err != nil {
		return err
	}
	defer servers.Close()

	fmt.Println("Starting the local control plane (kube-apiserver and etcd)...")
	env, cfg, err := testenv.Start(".")
	if err != nil {
		return fmt.Errorf("failed to start the control plane: %w", err)
	}
	defer func() { _ = env.Stop() }()
	kubeconfig, err := testenv.WriteAdminKubeconfig(env, dir, "playground-admin")
	if err != nil {
		return err
	}

	mgr, err := operator.NewManager(cfg, operator.Options{
		MetricsAddr: "0", ProbeAddr: "0", KubeAPIQPS: -1, Concurrency: 2,
		RemoteTimeout: 10 * time.Second, OperatorNamespace: operator.DefaultOperatorNamespace,
	})
	if err != nil {
		return err
	}
	if err := apply(ctx, cfg, samples); err != nil {
		return err
	}
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Start(ctx) }()

	printBanner(kubeconfig, filepath.Join(dir, "operator.log"))
	go report(ctx, mgr.GetClient())

	<-ctx.Done()
	fmt.Println("\nStopping: the manager, the control plane and the test servers; removing", dir)
	return <-stopped
}

// apply creates the operator's namespace and the samples.
func apply(ctx context.Context, cfg *rest.Config, samples string) error {
	c, err := client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	if err != nil {
		return err
	}
	objs, err := playground.LoadManifests(samples, strings.NewReplacer())
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operator.DefaultOperatorNamespace}}
	if err := c.Create(ctx, ns); err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("failed to apply %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
		fmt.Printf("  applied %s %s\n", obj.GetKind(), client.ObjectKeyFromObject(obj))
	}
	return nil
}

// printBanner says what runs and how to look at it.
func printBanner(kubeconfig, logFile string) {
	kubectl := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	fmt.Printf(`
token-operator is running on a local control plane, against test servers:
  AWX (controller API)      %[3]s   user %[5]s / %[6]s
  DeviceHive (auth API)     %[4]s
  operator logs             %[2]s

Look at it from another shell (kubectl is the matching one the tests built):
  export KUBECONFIG=%[1]s
  alias kubectl=%[7]s
  kubectl get personaltokens,deviceaccesstokens -A -w
  kubectl -n demo get events --sort-by=.lastTimestamp
  kubectl -n demo get secret ci-runner-awx -o jsonpath='{.data.CONTROLLER_OAUTH_TOKEN}' | base64 -d; echo
  curl -s -H "Authorization: Bearer $(kubectl -n demo get secret ci-runner-awx -o jsonpath='{.data.CONTROLLER_OAUTH_TOKEN}' | base64 -d)" %[3]s/api/v2/me/; echo
  curl -s -X POST %[4]s/token/refresh -H 'Content-Type: application/json' -d "{\"refreshToken\":\"$(kubectl -n demo get secret sensor-reader-dh -o jsonpath='{.data.refreshToken}' | base64 -d)\"}"; echo

The PersonalToken rotates every minute and the DeviceAccessToken every 30 seconds.
Ctrl-C stops everything and removes what the playground wrote.

`, kubeconfig, logFile, playground.AWXURL, playground.DeviceHiveURL, playground.AWXUser, playground.AWXPassword, kubectl)
}

// report prints a line each time a token is issued or rotated, or its Ready
// condition changes, so that a newcomer sees the operator at work.
func report(ctx context.Context, c client.Client) {
	seen := map[string]string{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var pts tokensv1alpha1.PersonalTokenList
		var dats tokensv1alpha1.DeviceAccessTokenList
		if c.List(ctx, &pts) != nil || c.List(ctx, &dats) != nil {
			continue
		}
		for _, pt := range pts.Items {
			line := fmt.Sprintf("token %d (revision %d)%s", pt.Status.TokenID, pt.Status.Revision, readiness(pt.Status.Conditions, pt.Status.RenewalTime))
			say(seen, "PersonalToken "+pt.Namespace+"/"+pt.Name, line)
		}
		for _, dat := range dats.Items {
			line := fmt.Sprintf("revision %d%s", dat.Status.Revision, readiness(dat.Status.Conditions, dat.Status.RenewalTime))
			say(seen, "DeviceAccessToken "+dat.Namespace+"/"+dat.Name, line)
		}
	}
}

func readiness(conds []metav1.Condition, renewal *metav1.Time) string {
	ready := meta.FindStatusCondition(conds, tokensv1alpha1.ReadyCondition)
	switch {
	case ready == nil:
		return ", not reconciled yet"
	case ready.Status != metav1.ConditionTrue:
		return ", not ready: " + ready.Message
	case renewal != nil:
		return ", ready, renews at " + renewal.Local().Format(time.TimeOnly)
	}
	return ", ready"
}

func say(seen map[string]string, who, line string) {
	if seen[who] != line {
		seen[who] = line
		fmt.Printf("%s  %s: %s\n", time.Now().Format(time.TimeOnly), who, line)
	}
}
