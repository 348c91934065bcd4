package scale

import (
	"testing"
	"time"
)

// TestSummarize_MedianAndRange: the summary a reader quotes is the middle run's
// figure with the lowest and highest beside it, whatever order the runs came in,
// and a sharded run counts its largest shard.
func TestSummarize_MedianAndRange(t *testing.T) {
	run := func(toReady, sameWrites, configMaps, oneAtATime time.Duration, peaks ...uint64) Result {
		return Result{ToReady: toReady, SameWrites: sameWrites, InParallel: configMaps, OneAtATime: oneAtATime, PeakRSS: peaks}
	}
	s := Summarize([]Result{
		run(20*time.Second, 10*time.Second, 4*time.Second, 16*time.Second, 90<<20, 95<<20),
		run(12*time.Second, 12*time.Second, 3*time.Second, 12*time.Second, 80<<20, 70<<20),
		run(15*time.Second, 10*time.Second, 5*time.Second, 10*time.Second, 100<<20, 60<<20),
	})
	want := Summary{Runs: 3,
		ToReady:      Spread{Median: 15, Min: 12, Max: 20},
		ToSameWrites: Spread{Median: 1.5, Min: 1, Max: 2},
		ToInParallel: Spread{Median: 4, Min: 3, Max: 5},
		ToOneAtATime: Spread{Median: 1.25, Min: 1, Max: 1.5},
		PeakRSSMiB:   Spread{Median: 95, Min: 80, Max: 100}}
	if s != want {
		t.Errorf("Summarize = %+v, want %+v", s, want)
	}
	if even := spreadOf([]float64{4, 1, 3, 2}); even != (Spread{Median: 2.5, Min: 1, Max: 4}) {
		t.Errorf("the median of an even count is the mean of the middle two; got %+v", even)
	}
}
