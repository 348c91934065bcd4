package scale

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// Options say what to measure.
type Options struct {
	// Root is the repository's top directory, relative to the working directory.
	Root string
	// N PersonalTokens are created, after UnrelatedSecrets Secrets the operator
	// does not own.
	N, UnrelatedSecrets int
	// Shards, when more than 0, runs the operator as that many processes, each
	// with its own --shard, and the tokens spread over them (the issuer in the
	// first).
	Shards int
	// AWXDelay is how long the AWX test server takes to answer each request.
	AWXDelay time.Duration
	// IdleWindow is how long the operator is watched once every token is Ready.
	IdleWindow time.Duration
	// ManagerArgs are given to the operator, after its default flags.
	ManagerArgs []string
	// ProfileTo, when set, is where a CPU profile of the operator while it
	// brings the tokens to Ready is written (ProfileFor long).
	ProfileTo  string
	ProfileFor time.Duration
	// APIServerProfileTo, when set, is where a CPU profile of the API server
	// over the same ProfileFor is written.
	APIServerProfileTo string
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// Result holds the figures of one run.
type Result struct {
	N, UnrelatedSecrets, Shards int
	// ToReady is the time from the first create to the last token Ready.
	ToReady time.Duration
	// Writes and Reads are the operator's API requests until then (Leases and
	// the bench's own creates left out); ByResource breaks them down.
	Writes, Reads float64
	ByResource    requestCounts
	// InParallel is the time a bare client, as unthrottled and as parallel as
	// the bench, takes for as many ConfigMap creates as the timed window held
	// writes (runWrites).
	InParallel time.Duration
	// OneAtATime is the time a bare client takes for as many ConfigMap creates
	// made one after the other, each waiting for the last one's answer.
	OneAtATime time.Duration
	// SameWrites is the time a bare client, as parallel, takes to make the very
	// requests the bench and the operator made for N tokens (see replay).
	SameWrites time.Duration
	// ReplayByResource are the API requests of that replay.
	ReplayByResource requestCounts
	// PerRequest is what a bare client's requests cost, by kind.
	PerRequest RequestCosts
	// IdleWrites and IdleRemoteCalls are counted in the idle window.
	IdleWrites      float64
	IdleByResource  requestCounts
	IdleRemoteCalls int
	RemoteCalls     int
	// RemoteConnections are the connections the operator opened to AWX until
	// all were Ready.
	RemoteConnections int
	// PeakRSS is the peak resident memory of each operator process, in bytes.
	PeakRSS []uint64
	// Events counts the events the operator recorded, by reason.
	Events map[string]int
	// Reconciles counts the reconciles of PersonalTokens until all were Ready,
	// by result (success, requeue, requeue_after, error).
	Reconciles map[string]float64
}

// parallelism is how many requests the bench sends at once, for its creates
// and its bare client alike.
const parallelism = 16

// Run measures one run; the world is torn down after it. On failure the
// operator's log is kept, and its path is in the error.
func Run(o Options) (res Result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	res = Result{N: o.N, UnrelatedSecrets: o.UnrelatedSecrets, Shards: o.Shards}
	w, err := newWorld(ctx, o)
	defer func() {
		cancel() // the watch first: the API server waits for it to end before it stops
		if w != nil {
			if err != nil && len(w.operators) > 0 {
				err = fmt.Errorf("%w (the operator's logs are in %s)", err, w.dir)
			}
			w.stop(err != nil)
		}
	}()
	if err != nil {
		return res, err
	}
	if o.UnrelatedSecrets > 0 {
		o.Logf("creating %d unrelated Secrets", o.UnrelatedSecrets)
		if _, err := createInParallel(ctx, o.UnrelatedSecrets, func(i int) client.Object {
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: fmt.Sprintf("unrelated-%d", i)},
				StringData: map[string]string{"config": strings.Repeat("x", 256)}}
		}, w.c); err != nil {
			return res, err
		}
	}
	var firstArgs []string
	pprofAddr := ""
	if o.ProfileTo != "" {
		if pprofAddr, err = freeLoopbackAddr(); err != nil {
			return res, err
		}
		firstArgs = append(firstArgs, "--pprof-bind-address="+pprofAddr)
		o.Logf("the operator serves its profiles on http://%s/debug/pprof/", pprofAddr)
	}
	o.Logf("starting the operator")
	if err := w.startOperator(o.Root, o.ManagerArgs, firstArgs); err != nil {
		return res, err
	}
	if err := waitFor(ctx, 100*time.Millisecond, func() (bool, error) { return w.issuerReady(ctx) }); err != nil {
		return res, fmt.Errorf("the issuer did not become Ready: %w", err)
	}
	ready, err := watchReady(ctx, w.cfg, w.ns)
	if err != nil {
		return res, err
	}
	before, err := readRequestCounts(ctx, w.cfg)
	if err != nil {
		return res, err
	}
	callsBefore, connsBefore := w.awx.TotalCalls(), w.awx.Connections()

	profiled := make(chan error, 1)
	if o.ProfileTo != "" {
		go func() { profiled <- fetchProfile(ctx, pprofAddr, o.ProfileFor, o.ProfileTo) }()
	} else {
		profiled <- nil
	}
	apiProfiled := make(chan error, 1)
	if o.APIServerProfileTo != "" {
		go func() { apiProfiled <- fetchAPIServerProfile(ctx, w.cfg, o.ProfileFor, o.APIServerProfileTo) }()
	} else {
		apiProfiled <- nil
	}
	o.Logf("creating %d PersonalTokens", o.N)
	start := time.Now()
	if _, err := createInParallel(ctx, o.N, w.personalToken, w.c); err != nil {
		return res, err
	}
	if err := ready.waitCount(ctx, o.N); err != nil {
		return res, fmt.Errorf("%d of %d tokens Ready: %w", ready.count(), o.N, err)
	}
	res.ToReady = time.Since(start)
	if err := <-profiled; err != nil {
		return res, err
	}
	if err := <-apiProfiled; err != nil {
		return res, err
	}
	o.Logf("%d tokens Ready in %s", o.N, res.ToReady.Round(time.Millisecond))

	// The operator's last events may still be in client-go's queue: they are
	// the work's, not the idle operator's.
	after, err := settledRequestCounts(ctx, w.cfg)
	if err != nil {
		return res, err
	}
	res.ByResource = after.since(before)
	res.Writes = res.ByResource.writes() - float64(o.N) // the bench's creates
	res.Reads = res.ByResource.reads() - 1              // the bench's metrics scrape
	res.RemoteCalls = w.awx.TotalCalls() - callsBefore
	res.RemoteConnections = w.awx.Connections() - connsBefore
	if res.Events, err = w.eventReasons(ctx); err != nil {
		return res, err
	}
	if res.Reconciles, err = w.reconciles(ctx); err != nil {
		return res, err
	}

	o.Logf("watching the idle operator for %s", o.IdleWindow)
	callsIdle := w.awx.TotalCalls()
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(o.IdleWindow):
	}
	idle, err := readRequestCounts(ctx, w.cfg)
	if err != nil {
		return res, err
	}
	res.IdleByResource = idle.since(after)
	res.IdleWrites = res.IdleByResource.writes()
	res.IdleRemoteCalls = w.awx.TotalCalls() - callsIdle
	if res.PeakRSS, err = w.peakRSS(); err != nil {
		return res, err
	}

	writes := res.runWrites()
	o.Logf("timing a bare client making %d ConfigMap creates, as many as the run's writes", writes)
	if res.InParallel, err = createInParallel(ctx, writes, func(i int) client.Object { return w.bareConfigMap(fmt.Sprintf("bare-%d", i)) }, w.c); err != nil {
		return res, err
	}
	o.Logf("timing a bare client making %d ConfigMap creates one at a time", writes)
	if res.OneAtATime, err = createOneAtATime(ctx, writes, func(i int) client.Object { return w.bareConfigMap(fmt.Sprintf("serial-%d", i)) }, w.c); err != nil {
		return res, err
	}
	o.Logf("stopping the operator, and timing a bare client making the operator's requests for %d more tokens", o.N)
	w.stopOperator()
	beforeReplay, err := readRequestCounts(ctx, w.cfg)
	if err != nil {
		return res, err
	}
	if res.SameWrites, err = w.replay(ctx, o.N); err != nil {
		return res, fmt.Errorf("replaying the operator's writes: %w", err)
	}
	afterReplay, err := readRequestCounts(ctx, w.cfg)
	if err != nil {
		return res, err
	}
	res.ReplayByResource = afterReplay.since(beforeReplay)
	o.Logf("timing a bare client's requests by kind")
	if res.PerRequest, err = w.requestCosts(ctx, o.N); err != nil {
		return res, fmt.Errorf("timing requests by kind: %w", err)
	}
	o.Logf("stopping")
	return res, nil
}

// runWrites are the writes the timed window held: the bench's creates of the
// tokens (the time to all Ready runs from the first) and the operator's. The
// bare clients make as many creates, as the replay makes these very writes.
func (r Result) runWrites() int { return r.N + int(r.Writes) }

// personalToken is the i-th token of the run.
func (w *world) personalToken(i int) client.Object {
	name := fmt.Sprintf("token-%05d", i)
	return &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name, Labels: w.shardLabels(i)},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name}},
		},
	}
}

// eventReasons counts the events in the world's namespace by reason.
func (w *world) eventReasons(ctx context.Context) (map[string]int, error) {
	events := &eventsv1.EventList{}
	if err := w.c.List(ctx, events, client.InNamespace(w.ns)); err != nil {
		return nil, err
	}
	reasons := map[string]int{}
	for _, e := range events.Items {
		reasons[e.Type+"/"+e.Reason] += max(1, int(e.DeprecatedCount))
		if e.Series != nil {
			reasons[e.Type+"/"+e.Reason] += int(e.Series.Count) - 1
		}
	}
	return reasons, nil
}

func (w *world) issuerReady(ctx context.Context) (bool, error) {
	issuer := &tokensv1alpha1.TokenIssuer{}
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "awx"}, issuer); err != nil {
		return false, err
	}
	return meta.IsStatusConditionTrue(issuer.Status.Conditions, tokensv1alpha1.ReadyCondition), nil
}

// createInParallel creates n objects with parallelism workers and returns how
// long it took.
func createInParallel(ctx context.Context, n int, object func(i int) client.Object, c client.Client) (time.Duration, error) {
	return inParallel(n, func(i int) error { return c.Create(ctx, object(i)) })
}

// createOneAtATime creates n objects, each once the last is answered, and
// returns how long it took.
func createOneAtATime(ctx context.Context, n int, object func(i int) client.Object, c client.Client) (time.Duration, error) {
	start := time.Now()
	for i := range n {
		if err := c.Create(ctx, object(i)); err != nil {
			return time.Since(start), err
		}
	}
	return time.Since(start), nil
}

// inParallel runs do for 0..n-1 with parallelism workers, stopping at the first
// error, and returns how long it took.
func inParallel(n int, do func(i int) error) (time.Duration, error) {
	start := time.Now()
	next := make(chan int)
	errs := make(chan error, parallelism)
	var wg sync.WaitGroup
	for range parallelism {
		wg.Go(func() {
			for i := range next {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return time.Since(start), err
}

// Print writes the figures for a reader, the ratios first.
func (r Result) Print(out io.Writer) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(out, "%-44s"+format+"\n", append([]any{label + ":"}, args...)...)
	}
	fmt.Fprintf(out, "tokens: %d (unrelated Secrets: %d, operator shards: %d)\n", r.N, r.UnrelatedSecrets, r.Shards)
	line("time to all Ready", "%s", r.ToReady.Round(10*time.Millisecond))
	line("bare client, the same writes", "%s", r.SameWrites.Round(10*time.Millisecond))
	line("ratio to the same writes", "%.2f", r.ToReady.Seconds()/r.SameWrites.Seconds())
	line("writes in the timed window", "%d (the bench's %d creates and the operator's %.0f)", r.runWrites(), r.N, r.Writes)
	line("bare client, as many creates one at a time", "%s", r.OneAtATime.Round(10*time.Millisecond))
	line("ratio to creates one at a time", "%.2f", r.ToReady.Seconds()/r.OneAtATime.Seconds())
	line("bare client, as many creates in parallel", "%s", r.InParallel.Round(10*time.Millisecond))
	line("ratio to creates in parallel", "%.2f", r.ToReady.Seconds()/r.InParallel.Seconds())
	line("bare client, per request", "ConfigMap create %s, PersonalToken create %s, its status patch %s",
		r.PerRequest.ConfigMapCreate.Round(10*time.Microsecond), r.PerRequest.TokenCreate.Round(10*time.Microsecond),
		r.PerRequest.TokenStatusPatch.Round(10*time.Microsecond))
	line("API writes per token", "%.2f (events included, Leases left out)", r.Writes/float64(r.N))
	line("API reads per token", "%.2f", r.Reads/float64(r.N))
	line("remote calls per token", "%.2f (connections opened: %d)", float64(r.RemoteCalls)/float64(r.N), r.RemoteConnections)
	line("idle writes, remote calls", "%.0f, %d", r.IdleWrites, r.IdleRemoteCalls)
	peaks := make([]string, len(r.PeakRSS))
	for i, peak := range r.PeakRSS {
		peaks[i] = fmt.Sprintf("%d MiB", peak>>20)
	}
	line("operator peak RSS", "%s", strings.Join(peaks, ", "))
	reconciles := []string{}
	for _, result := range slices.Sorted(maps.Keys(r.Reconciles)) {
		reconciles = append(reconciles, fmt.Sprintf("%s %.2f", result, r.Reconciles[result]/float64(r.N)))
	}
	line("reconciles per token", "%s", strings.Join(reconciles, ", "))
	events := []string{}
	for _, reason := range slices.Sorted(maps.Keys(r.Events)) {
		events = append(events, fmt.Sprintf("%s %d", reason, r.Events[reason]))
	}
	line("events by reason", "%s", strings.Join(events, ", "))
	fmt.Fprintf(out, "requests by verb and resource until all Ready:\n%s", r.ByResource)
	if r.IdleWrites > 0 {
		fmt.Fprintf(out, "requests while idle:\n%s", r.IdleByResource)
	}
}

// fetchProfile writes a CPU profile of d taken from the operator's pprof
// endpoint at addr to path.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// settledRequestCounts reads the API server's counts once the writes have
// stopped growing for a second (at most 30 s).
func settledRequestCounts(ctx context.Context, cfg *rest.Config) (requestCounts, error) {
	counts, err := readRequestCounts(ctx, cfg)
	for deadline := time.Now().Add(30 * time.Second); err == nil && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		var next requestCounts
		if next, err = readRequestCounts(ctx, cfg); err == nil && next.since(counts).writes() == 0 {
			return next, nil
		}
		counts = next
	}
	return counts, err
}

// fetchAPIServerProfile writes a CPU profile of d taken from the API server's
// pprof endpoint to path.
func fetchAPIServerProfile(ctx context.Context, cfg *rest.Config, d time.Duration, path string) error {
	c, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	raw, err := c.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(int(d.Seconds()))).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("failed to profile the API server: %w", err)
	}
	return os.WriteFile(path, raw, 0o644)
}
