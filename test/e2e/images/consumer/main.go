// Command consumer plays a workload of the end-to-end tests that reads a token's
// Secret the way the awx.awx collection does: CONTROLLER_HOST and
// CONTROLLER_OAUTH_TOKEN from its environment at start (-mode=env), or from the
// files of a mounted Secret, read again before every call (-mode=file). It calls
// /api/v2/me/ several times a second and logs every failure with its time, so
// that a test can assert that no call failed through rotations. -mode=hold only
// loads a token (a DeviceHive pair, which nothing here verifies) from the
// environment variable -token-env and waits.
//
// Its log (to standard error, and to -log-dir/$POD_NAME.log, which outlives the
// pod) holds one event a line: "<time> START token=<fingerprint>", "TOKEN" when a
// mounted token changes, "FAIL" for each failed call, "COUNT" every two seconds
// and "STOP" at the end, the last two with "ok=N fail=M". A fingerprint is the
// first 12 hex digits of the token's SHA-256, never the token.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	mode := flag.String("mode", "env", "env, file or hold.")
	dir := flag.String("secret-dir", "/secret", "Where the Secret is mounted (-mode=file).")
	tokenEnv := flag.String("token-env", "accessToken", "The variable holding the token (-mode=hold).")
	interval := flag.Duration("interval", 200*time.Millisecond, "Time between calls.")
	logDir := flag.String("log-dir", "", "A directory for a copy of the log, named after $POD_NAME.")
	listen := flag.String("listen", ":8080", "Serves /readyz: ready once a call has succeeded (and always in -mode=hold).")
	flag.Parse()

	out := io.Writer(os.Stderr)
	if *logDir != "" {
		name := os.Getenv("POD_NAME")
		if name == "" {
			name, _ = os.Hostname()
		}
		f, err := os.OpenFile(filepath.Join(*logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		out = io.MultiWriter(os.Stderr, f)
	}
	c := &consumer{log: log.New(out, "", 0)}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)

	var load func() (host, token string, err error)
	switch *mode {
	case "env":
		host, token := os.Getenv("CONTROLLER_HOST"), os.Getenv("CONTROLLER_OAUTH_TOKEN")
		load = func() (string, string, error) { return host, token, nil }
	case "file":
		load = func() (string, string, error) { return readSecret(*dir) }
	case "hold":
		c.ready.Store(true)
		c.event("START", "token=%s", fingerprint(os.Getenv(*tokenEnv)))
		go serveReady(*listen, &c.ready)
		<-stop
		c.event("STOP", "ok=0 fail=0")
		return
	default:
		log.Fatalf("unknown -mode %q", *mode)
	}
	go serveReady(*listen, &c.ready)
	c.run(load, *interval, stop)
}

// consumer counts its calls.
type consumer struct {
	log       *log.Logger
	ok, fail  int
	lastToken string
	ready     atomic.Bool
}

func (c *consumer) event(name, format string, args ...any) {
	c.log.Printf("%s %s %s", time.Now().UTC().Format(time.RFC3339Nano), name, fmt.Sprintf(format, args...))
}

func (c *consumer) run(load func() (string, string, error), interval time.Duration, stop <-chan os.Signal) {
	// Generous: a call the machine is too busy to answer soon is slow, not refused.
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(interval)
	report := time.NewTicker(2 * time.Second)
	first := true
	for {
		select {
		case <-stop:
			c.event("STOP", "ok=%d fail=%d", c.ok, c.fail)
			return
		case <-report.C:
			c.event("COUNT", "ok=%d fail=%d", c.ok, c.fail)
		case <-tick.C:
			host, token, err := load()
			if err != nil {
				c.fail++
				c.event("FAIL", "error=%q", err.Error())
				continue
			}
			fp := fingerprint(token)
			if first {
				c.event("START", "token=%s", fp)
				first = false
			} else if fp != c.lastToken {
				c.event("TOKEN", "token=%s", fp)
			}
			c.lastToken = fp
			c.call(client, host, token, fp)
		}
	}
}

// call asks AWX who the token belongs to, as the collection's modules do first.
func (c *consumer) call(client *http.Client, host, token, fp string) {
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(host, "/")+"/api/v2/me/", nil)
	if err == nil {
		req.Header.Set("Authorization", "Bearer "+token)
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
	}
	if err != nil {
		c.fail++
		c.ready.Store(false)
		c.event("FAIL", "token=%s error=%q", fp, err.Error())
		return
	}
	c.ok++
	c.ready.Store(true)
}

// readSecret reads the mounted Secret's files as the kubelet last wrote them.
func readSecret(dir string) (host, token string, err error) {
	h, err := os.ReadFile(filepath.Join(dir, "CONTROLLER_HOST"))
	if err != nil {
		return "", "", err
	}
	t, err := os.ReadFile(filepath.Join(dir, "CONTROLLER_OAUTH_TOKEN"))
	if err != nil {
		return "", "", err
	}
	return string(h), string(t), nil
}

func fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}

func serveReady(addr string, ready *atomic.Bool) {
	http.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "no call has succeeded yet", http.StatusServiceUnavailable)
		}
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
