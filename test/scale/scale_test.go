package scale

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tokenoperator/token-operator/controllers"
	"github.com/tokenoperator/token-operator/internal/operator"
)

// TestScale_CostPerToken runs the benchmark small, with the operator whole and
// split in two shards: every token Ready, at most 5 API writes each (events
// included), a read and two remote calls each, connections to AWX kept, no
// second reconcile, and nothing written or called once all are Ready. Times are for `make bench-scale` to print, not for a test to assert.
func TestScale_CostPerToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane of its own")
	}
	ctrllog.SetLogger(logr.Discard())
	for _, shards := range []int{0, 2} {
		t.Run(fmt.Sprintf("shards=%d", shards), func(t *testing.T) { costPerToken(t, shards) })
	}
}

func costPerToken(t *testing.T, shards int) {
	start := time.Now()
	res, err := Run(Options{Root: "../..", N: 100, Shards: shards, AWXDelay: 2 * time.Millisecond, IdleWindow: 5 * time.Second,
		Timeout: 5 * time.Minute, Logf: func(format string, args ...any) {
			t.Logf("%5s "+format, append([]any{time.Since(start).Round(time.Second)}, args...)...)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.0f API writes, %.0f API reads, %d remote calls, %d connections to AWX for %d tokens",
		res.Writes, res.Reads, res.RemoteCalls, res.RemoteConnections, res.N)
	// One more write labels the credentials Secret the tokens share, once, or
	// once by each shard that reads it before another's label shows.
	labelWrites := max(1, shards)
	if res.Writes > float64(5*res.N+labelWrites) {
		t.Errorf("%.2f API writes per token, want at most 5:\n%s", res.Writes/float64(res.N), res.ByResource)
	}
	if reconciles := res.Reconciles["success"] + res.Reconciles["requeue_after"]; reconciles > float64(res.N) {
		t.Errorf("%.0f reconciles for %d tokens: the operator woke itself up, or two shards took one token", reconciles, res.N)
	}
	// The replay baseline makes the run's very writes; the run also labels the
	// credentials Secret.
	runWrites := res.ByResource.writesByResource()
	if runWrites["PATCH secrets"] <= float64(labelWrites) {
		delete(runWrites, "PATCH secrets")
	}
	if replayWrites := res.ReplayByResource.writesByResource(); !maps.Equal(replayWrites, runWrites) {
		t.Errorf("the bare client's replay made other writes than the run:\nreplay:\n%s\nrun:\n%s", replayWrites, runWrites)
	}
	// A first mint reads one Secret (its name checked free) and calls AWX twice
	// (the create, then the orphan sweep). Each process reads the credentials
	// Secret the tokens share, and asks AWX who they belong to, once: workers
	// that need them meanwhile wait for it. It reads the Secret again, without
	// asking AWX, while its cache has not yet shown the label it put on the
	// Secret: a few reads, one at a time.
	// The API server's own reads of its endpoints, every 10 s, count too.
	processes := max(1, shards)
	if early := operator.DefaultConcurrency * processes; res.Reads > float64(res.N+early+10) {
		t.Errorf("%.2f API reads per token, want 1 and the credentials once per process:\n%s", res.Reads/float64(res.N), res.ByResource)
	}
	if res.RemoteCalls > 2*res.N+processes {
		t.Errorf("%.2f remote calls per token, want 2 and who the credentials are once per process", float64(res.RemoteCalls)/float64(res.N))
	}
	// Connections to AWX are kept for the next call: no more are opened than
	// calls can be in flight at once.
	if inFlight := controllers.DefaultRemoteCallsPerIssuer * processes; res.RemoteConnections > inFlight {
		t.Errorf("%d connections opened to AWX, want at most %d", res.RemoteConnections, inFlight)
	}
	if res.IdleWrites != 0 || res.IdleRemoteCalls != 0 {
		t.Errorf("idle, the operator made %.0f writes and %d remote calls:\n%s", res.IdleWrites, res.IdleRemoteCalls, res.IdleByResource)
	}
}
