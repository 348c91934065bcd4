package scale

import (
	"fmt"
	"io"
	"slices"
)

// Summary is the middle and the spread of the figures that vary from run to run
// on a noisy machine, over several runs of the same options.
type Summary struct {
	Runs int
	// Each holds the median, the lowest and the highest of the runs.
	ToReady, ToSameWrites, ToInParallel, ToOneAtATime, PeakRSSMiB Spread
}

// Spread is the median, lowest and highest of some runs' values.
type Spread struct{ Median, Min, Max float64 }

// spreadOf is the Spread of values, which it leaves as they were.
func spreadOf(values []float64) Spread {
	sorted := slices.Sorted(slices.Values(values))
	n := len(sorted)
	if n == 0 {
		return Spread{}
	}
	median := sorted[n/2]
	if n%2 == 0 {
		median = (sorted[n/2-1] + sorted[n/2]) / 2
	}
	return Spread{Median: median, Min: sorted[0], Max: sorted[n-1]}
}

// Summarize is the Summary of results; a run with several shards counts its
// largest one's peak.
func Summarize(results []Result) Summary {
	var toReady, toSame, toConfigMaps, toOneAtATime, peaks []float64
	for _, r := range results {
		toReady = append(toReady, r.ToReady.Seconds())
		toSame = append(toSame, r.ToReady.Seconds()/r.SameWrites.Seconds())
		toConfigMaps = append(toConfigMaps, r.ToReady.Seconds()/r.InParallel.Seconds())
		toOneAtATime = append(toOneAtATime, r.ToReady.Seconds()/r.OneAtATime.Seconds())
		peaks = append(peaks, float64(slices.Max(r.PeakRSS)>>20))
	}
	return Summary{Runs: len(results), ToReady: spreadOf(toReady), ToSameWrites: spreadOf(toSame),
		ToInParallel: spreadOf(toConfigMaps), ToOneAtATime: spreadOf(toOneAtATime), PeakRSSMiB: spreadOf(peaks)}
}

// Print writes the medians, each with its range.
func (s Summary) Print(out io.Writer) {
	line := func(label string, sp Spread, format string) {
		fmt.Fprintf(out, "%-44s"+format+" ("+format+" to "+format+")\n", label+":", sp.Median, sp.Min, sp.Max)
	}
	fmt.Fprintf(out, "median of %d runs (lowest to highest):\n", s.Runs)
	line("time to all Ready, s", s.ToReady, "%.2f")
	line("ratio to the same writes", s.ToSameWrites, "%.2f")
	line("ratio to creates one at a time", s.ToOneAtATime, "%.2f")
	line("ratio to creates in parallel", s.ToInParallel, "%.2f")
	line("operator peak RSS, MiB", s.PeakRSSMiB, "%.0f")
}
