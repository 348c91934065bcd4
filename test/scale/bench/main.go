// Command bench runs the scale benchmark (`make bench-scale`): N (default 1000)
// PersonalTokens, after UNRELATED_SECRETS Secrets the operator does not own, with
// the operator split into SHARDS processes when SHARDS is set, RUNS times (1),
// each in a new control plane, with the median of the runs after them.
// MANAGER_ARGS adds flags to the operator's defaults; PROFILE=file writes a CPU
// profile of the operator's first PROFILE_SECONDS (5) of work there, and
// PROFILE_APISERVER=file one of the API server's.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tokenoperator/token-operator/test/scale"
)

func main() {
	// The benchmark's own clients have nothing to log.
	ctrllog.SetLogger(logr.Discard())
	o := scale.Options{Root: ".", N: envInt("N", 1000), UnrelatedSecrets: envInt("UNRELATED_SECRETS", 0),
		Shards:   envInt("SHARDS", 0),
		AWXDelay: 2 * time.Millisecond, IdleWindow: 20 * time.Second, Timeout: 45 * time.Minute,
		ManagerArgs: strings.Fields(os.Getenv("MANAGER_ARGS")),
		ProfileTo:   os.Getenv("PROFILE"), ProfileFor: time.Duration(envInt("PROFILE_SECONDS", 5)) * time.Second,
		APIServerProfileTo: os.Getenv("PROFILE_APISERVER"),
		Logf:               func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }}
	runs := envInt("RUNS", 1)
	if runs < 1 {
		fmt.Fprintf(os.Stderr, "bench-scale: RUNS=%d: give 1 or more\n", runs)
		os.Exit(2)
	}
	var results []scale.Result
	for i := range runs {
		if runs > 1 {
			fmt.Printf("run %d of %d\n", i+1, runs)
		}
		res, err := scale.Run(o)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench-scale:", err)
			os.Exit(1)
		}
		res.Print(os.Stdout)
		results = append(results, res)
	}
	if runs > 1 {
		scale.Summarize(results).Print(os.Stdout)
	}
}

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-scale: %s=%q is not a number\n", name, v)
		os.Exit(2)
	}
	return n
}
