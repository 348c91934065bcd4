package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// consumerLog is what one consumer pod logged (see test/e2e/images/consumer).
type consumerLog struct {
	pod string
	// started is when it loaded its first token, token's fingerprint.
	started time.Time
	token   string
	// changes are the times a mounted token changed, by new fingerprint.
	changes map[string]time.Time
	// failures are the failed calls' lines.
	failures []string
	// ok is the last count of successful calls; stopped when it stopped (zero
	// while it runs).
	ok      int
	stopped time.Time
}

// consumerLogs reads the logs of the pods whose names start with prefix.
func (e *environment) consumerLogs(prefix string) ([]consumerLog, error) {
	files, err := filepath.Glob(filepath.Join(e.consumerLogDir, prefix+"*.log"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []consumerLog
	for _, f := range files {
		l, err := readConsumerLog(f)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

func readConsumerLog(path string) (consumerLog, error) {
	l := consumerLog{pod: strings.TrimSuffix(filepath.Base(path), ".log"), changes: map[string]time.Time{}}
	f, err := os.Open(path)
	if err != nil {
		return l, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, fields[0])
		if err != nil {
			continue
		}
		kv := map[string]string{}
		for _, f := range fields[2:] {
			if k, v, ok := strings.Cut(f, "="); ok {
				kv[k] = v
			}
		}
		switch fields[1] {
		case "START":
			l.started, l.token = at, kv["token"]
		case "TOKEN":
			l.changes[kv["token"]] = at
		case "FAIL":
			l.failures = append(l.failures, sc.Text())
		case "COUNT", "STOP":
			l.ok, _ = strconv.Atoi(kv["ok"])
			if fields[1] == "STOP" {
				l.stopped = at
			}
		}
	}
	return l, sc.Err()
}

// checkNoFailures says what failed, if any call of any of the logs did, or if
// there are no logs.
func checkNoFailures(logs []consumerLog) error {
	var problems []string
	for _, l := range logs {
		if len(l.failures) > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d failed calls, first: %s", l.pod, len(l.failures), l.failures[0]))
		}
	}
	if len(logs) == 0 {
		problems = append(problems, "no consumer logged anything")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// totalCalls is the successful calls of all logs.
func totalCalls(logs []consumerLog) int {
	n := 0
	for _, l := range logs {
		n += l.ok
	}
	return n
}
