// Command token-operator runs the manager that keeps API access tokens alive as
// Kubernetes custom resources.
package main

import (
	"flag"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
)

// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

func main() {
	var (
		metricsAddr, probeAddr, leaderElectionNamespace string
		leaderElect                                     bool
		kubeAPIQPS                                      float64
		kubeAPIBurst, concurrency                       int
		remoteTimeout                                   time.Duration
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 turns it off.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", true, "Elect a leader through a Lease so that only one replica reconciles at a time.")
	flag.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; defaults to the operator's own namespace in a cluster.")
	flag.Float64Var(&kubeAPIQPS, "kube-api-qps", -1, "Queries per second to the Kubernetes API; negative leaves the pace to the API server's priority and fairness.")
	flag.IntVar(&kubeAPIBurst, "kube-api-burst", 0, "Burst of queries to the Kubernetes API when kube-api-qps is positive.")
	flag.IntVar(&concurrency, "concurrency", 4, "Tokens of each kind reconciled at once.")
	flag.DurationVar(&remoteTimeout, "remote-timeout", 30*time.Second, "Timeout of each call to a remote token API.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	mgr, err := newManager(managerOptions{
		metricsAddr:             metricsAddr,
		probeAddr:               probeAddr,
		leaderElect:             leaderElect,
		leaderElectionNamespace: leaderElectionNamespace,
		kubeAPIQPS:              float32(kubeAPIQPS),
		kubeAPIBurst:            kubeAPIBurst,
		concurrency:             concurrency,
		remoteTimeout:           remoteTimeout,
	})
	if err != nil {
		log.Error(err, "Failed to create the manager")
		os.Exit(1)
	}

	log.Info("Starting the manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}

type managerOptions struct {
	metricsAddr, probeAddr, leaderElectionNamespace string
	leaderElect                                     bool
	kubeAPIQPS                                      float32
	kubeAPIBurst, concurrency                       int
	remoteTimeout                                   time.Duration
}

func newScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tokensv1alpha1.AddToScheme(scheme))
	return scheme
}

func newManager(o managerOptions) (ctrl.Manager, error) {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return nil, err
	}
	// client-go throttles to 20 QPS by default; at 10,000 tokens that, not the API
	// server, would set the pace.
	cfg.QPS = o.kubeAPIQPS
	cfg.Burst = o.kubeAPIBurst

	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  newScheme(),
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "token-operator.tokenoperator.io",
		LeaderElectionNamespace: o.leaderElectionNamespace,
		// The operator writes Secrets but must not cache every Secret of the cluster.
		Cache: cache.Options{ByObject: controllers.OwnedSecretsOnly()},
	})
	if err != nil {
		return nil, err
	}
	credentials, err := controllers.NewCredentialsCache(mgr, nil)
	if err != nil {
		return nil, err
	}
	if err := (&controllers.PersonalTokenReconciler{
		Client:        mgr.GetClient(),
		APIReader:     mgr.GetAPIReader(),
		Recorder:      mgr.GetEventRecorder(controllers.PersonalTokenControllerName),
		Clock:         clock.RealClock{},
		RemoteTimeout: o.remoteTimeout,
	}).SetupWithManager(mgr, o.concurrency, credentials); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}
