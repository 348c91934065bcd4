// Package operator assembles the manager: scheme, caches, controllers and probes.
// The operator binary, the local playground and the tests all start it here.
package operator

import (
	"context"
	"crypto/tls"
	"os"
	"time"

	"github.com/go-logr/logr"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
	"github.com/tokenoperator/token-operator/internal/metrics"
)

// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Options configure the manager.
type Options struct {
	MetricsAddr, ProbeAddr string
	// PprofAddr serves Go's profiles (/debug/pprof/); empty or "0": off.
	PprofAddr string
	// MetricsSecure serves metrics over HTTPS to callers the API server
	// authenticates and authorizes for GET /metrics; false serves plain HTTP to
	// anyone, for local runs.
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the metrics endpoint; empty:
	// a self-signed certificate made at start.
	MetricsCertDir string
	// EnableHTTP2 lets the metrics endpoint speak HTTP/2, off by default against
	// the HTTP/2 rapid reset and stream cancellation attacks.
	EnableHTTP2             bool
	LeaderElect             bool
	LeaderElectionNamespace string
	// KubeAPIQPS < 0 leaves the pace to the API server's priority and fairness.
	KubeAPIQPS   float32
	KubeAPIBurst int
	// Concurrency is how many tokens of each kind are reconciled at once.
	Concurrency int
	// Shard, a label selector, limits the operator to the tokens it selects, so
	// that several operator Deployments split the tokens of one cluster (see
	// ShardLabel); empty: every token.
	Shard         string
	RemoteTimeout time.Duration
	// OperatorNamespace holds the Secrets that ClusterTokenIssuers name.
	OperatorNamespace string
	// IssuerCheckInterval is how often a healthy issuer is checked again.
	IssuerCheckInterval time.Duration
	// RemoteCallsPerIssuer bounds the reconciles talking to one issuer at once.
	RemoteCallsPerIssuer int
	// Consumers say how the workloads reading a token's Secret are brought to
	// its new content.
	Consumers controllers.ConsumerSettings
	// (A zero RemoteTimeout, RemoteCallsPerIssuer, IssuerCheckInterval, VolumeRefreshDelay or PollInterval takes the
	// default: none of them can be zero. An empty LeaderElectionNamespace is
	// OperatorNamespace.)
	// Logger, when set, is the manager's and its controllers' logger instead of
	// the global one: a test gives each manager its own.
	Logger logr.Logger
}

// DefaultConcurrency is how many tokens of each kind are reconciled at once by
// default: a reconcile mostly waits on the API server and remote systems, so the
// API server, not the workers, should set the pace.
const DefaultConcurrency = 16

// DefaultRemoteTimeout bounds each remote call unless told otherwise.
const DefaultRemoteTimeout = 30 * time.Second

// DefaultOperatorNamespace is the operator's namespace when POD_NAMESPACE is unset.
const DefaultOperatorNamespace = "token-operator-system"

// OperatorNamespaceFromEnv is POD_NAMESPACE (set by the Deployment), or the default.
func OperatorNamespaceFromEnv() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return DefaultOperatorNamespace
}

// NewScheme registers the Kubernetes types and the operator's API.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tokensv1alpha1.AddToScheme(scheme))
	return scheme
}

// NewManager returns a manager with every controller of the operator registered.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	o = withDefaults(o)
	cfg = rest.CopyConfig(cfg)
	// client-go throttles to 20 QPS by default; at 10,000 tokens that, not the API
	// server, would set the pace.
	cfg.QPS = o.KubeAPIQPS
	cfg.Burst = o.KubeAPIBurst

	shard, err := parseShard(o.Shard)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                  o.Logger,
		Scheme:                  NewScheme(),
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        leaderElectionID(o.Shard),
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// managedFields are half of a small object's size, and nothing here reads them.
		Cache: cache.Options{ByObject: cachedObjects(shard), DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return nil, err
	}
	// Only the leader serves the per-object series, as only it serves the
	// counters: one series per token, however many replicas are scraped.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		metrics.SetSource(controllers.MetricsSource(mgr.GetCache()))
		<-ctx.Done()
		metrics.SetSource(nil)
		return nil
	})); err != nil {
		return nil, err
	}
	credentials, err := controllers.NewCredentialsCache(mgr, nil)
	if err != nil {
		return nil, err
	}
	budget := controllers.NewRemoteBudget(o.RemoteCallsPerIssuer)
	deps := func(controller string) controllers.TokenDeps {
		return controllers.TokenDeps{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
			Recorder: mgr.GetEventRecorder(controller), Clock: clock.RealClock{}, RemoteTimeout: o.RemoteTimeout,
			Consumers: o.Consumers, Budget: budget, ShardLabels: shardLabels(shard)}
	}
	if err := (&controllers.PersonalTokenReconciler{TokenDeps: deps(controllers.PersonalTokenControllerName)}).
		SetupWithManager(mgr, o.Concurrency, credentials); err != nil {
		return nil, err
	}
	if err := (&controllers.DeviceAccessTokenReconciler{TokenDeps: deps(controllers.DeviceAccessTokenControllerName),
		OperatorNamespace: o.OperatorNamespace}).SetupWithManager(mgr, o.Concurrency, credentials); err != nil {
		return nil, err
	}
	if err := (&controllers.IssuerReconciler{TokenDeps: deps(controllers.TokenIssuerControllerName),
		OperatorNamespace: o.OperatorNamespace, CheckInterval: o.IssuerCheckInterval, Shard: shard}).SetupWithManager(mgr, credentials); err != nil {
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

// withDefaults fills in the settings that cannot be zero.
func withDefaults(o Options) Options {
	if o.LeaderElectionNamespace == "" {
		// Outside a cluster, controller-runtime has no namespace of its own to
		// put the Lease in, and would refuse to start.
		o.LeaderElectionNamespace = o.OperatorNamespace
	}
	if o.RemoteTimeout <= 0 {
		// Recovery waits twice this long for a create to commit: it cannot be zero.
		o.RemoteTimeout = DefaultRemoteTimeout
	}
	if o.RemoteCallsPerIssuer <= 0 {
		o.RemoteCallsPerIssuer = controllers.DefaultRemoteCallsPerIssuer
	}
	if o.IssuerCheckInterval <= 0 {
		o.IssuerCheckInterval = controllers.DefaultIssuerCheckInterval
	}
	if o.Consumers.VolumeRefreshDelay <= 0 {
		o.Consumers.VolumeRefreshDelay = controllers.DefaultConsumerSettings.VolumeRefreshDelay
	}
	if o.Consumers.PollInterval <= 0 {
		o.Consumers.PollInterval = controllers.DefaultConsumerSettings.PollInterval
	}
	o.Consumers.RestartWindow = max(o.Consumers.RestartWindow, 0)
	return o
}

// metricsOptions serves the metrics as o says: by default over HTTPS, to whom the
// API server authenticates (TokenReview) and authorizes (SubjectAccessReview).
func metricsOptions(o Options) metricsserver.Options {
	opts := metricsserver.Options{BindAddress: o.MetricsAddr}
	if !o.MetricsSecure {
		return opts
	}
	opts.SecureServing = true
	opts.FilterProvider = metricsAccessFilter
	opts.CertDir = o.MetricsCertDir
	if !o.EnableHTTP2 {
		opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	}
	return opts
}
