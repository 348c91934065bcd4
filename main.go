// Command token-operator runs the manager that keeps API access tokens alive as
// Kubernetes custom resources.
package main

import (
	"flag"
	"os"
	"runtime/debug"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tokenoperator/token-operator/controllers"
	"github.com/tokenoperator/token-operator/internal/operator"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise. The
// operator's memory is mostly its cache of tokens and their Secrets, which
// grows slowly: collecting when the heap has grown by half of it, not by all of
// it as Go does by default, takes a fifth off the peak at 10,000 tokens (166 to
// 135 MiB) for no time lost in `make bench-scale`.
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	var (
		o   operator.Options
		qps float64
	)
	flag.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8443", "Address the Prometheus metrics endpoint binds to; 0 turns it off.")
	flag.BoolVar(&o.MetricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS to callers the API server authenticates and authorizes for GET /metrics; false serves plain HTTP to anyone.")
	flag.StringVar(&o.MetricsCertDir, "metrics-cert-dir", "", "Directory holding tls.crt and tls.key for the metrics endpoint; empty: a self-signed certificate.")
	flag.BoolVar(&o.EnableHTTP2, "enable-http2", false, "Let the metrics endpoint speak HTTP/2 (off against HTTP/2 rapid reset attacks).")
	flag.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "Address Go's profiles (/debug/pprof/) are served on, for finding where time goes; 0 turns them off.")
	flag.BoolVar(&o.LeaderElect, "leader-elect", true, "Elect a leader through a Lease so that only one replica reconciles at a time.")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; defaults to --operator-namespace, in a cluster or out of it.")
	flag.Float64Var(&qps, "kube-api-qps", -1, "Queries per second to the Kubernetes API; negative leaves the pace to the API server's priority and fairness.")
	flag.IntVar(&o.KubeAPIBurst, "kube-api-burst", 0, "Burst of queries to the Kubernetes API when kube-api-qps is positive.")
	flag.IntVar(&o.Concurrency, "concurrency", operator.DefaultConcurrency, "Tokens of each kind reconciled at once.")
	flag.StringVar(&o.Shard, "shard", "", "Label selector of the tokens this operator reconciles, to split them between several operator Deployments, e.g. '"+
		operator.ShardLabel+" in (shard1)' (and 'notin (shard1)' for the main one); empty: every token. It picks the issuers this operator checks the same way. Each shard has its own leader election Lease.")
	flag.DurationVar(&o.RemoteTimeout, "remote-timeout", operator.DefaultRemoteTimeout, "Timeout of each call to a remote token API.")
	flag.StringVar(&o.OperatorNamespace, "operator-namespace", operator.OperatorNamespaceFromEnv(), "Namespace of the Secrets that ClusterTokenIssuers name.")
	flag.IntVar(&o.RemoteCallsPerIssuer, "remote-calls-per-issuer", controllers.DefaultRemoteCallsPerIssuer,
		"Reconciles that may talk to one issuer's remote system at once, so that a slow or hanging issuer cannot hold every worker.")
	flag.DurationVar(&o.IssuerCheckInterval, "issuer-check-interval", controllers.DefaultIssuerCheckInterval, "How often a healthy TokenIssuer or ClusterTokenIssuer is checked again (configuration, Secrets, remote system).")
	flag.DurationVar(&o.Consumers.RestartWindow, "consumer-restart-window", controllers.DefaultConsumerSettings.RestartWindow,
		"How long after a token's Secret changes its consumers are restarted, so that a workload reading several Secrets that change together rolls out once.")
	flag.DurationVar(&o.Consumers.VolumeRefreshDelay, "volume-refresh-delay", controllers.DefaultConsumerSettings.VolumeRefreshDelay,
		"How long the kubelet may take to refresh a Secret mounted as a volume; the previous token waits this long for such consumers.")
	flag.DurationVar(&o.Consumers.PollInterval, "consumer-poll-interval", controllers.DefaultConsumerSettings.PollInterval,
		"How often a workload being restarted for a token is looked at until it has rolled out.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	o.KubeAPIQPS = float32(qps)

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Failed to find a Kubernetes API server: set KUBECONFIG or run in a cluster")
		os.Exit(1)
	}
	mgr, err := operator.NewManager(cfg, o)
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
