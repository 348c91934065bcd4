// Command awxserver serves the in-memory AWX test server (awxtest) as a program,
// for the end-to-end tests, which run it in their cluster. Every request but a
// successful GET of /me/ (consumers make several a second) is logged with its
// time, as "<time> awx: <METHOD> <path> -> <status> (<duration>)", to standard
// error and to -log, so that a test can tell when each token was minted and
// revoked.
//
// Usage: awxserver -listen 10.213.0.1:8052 -user ci-bot:password -admin admin:password -log /logs/awx.log
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testserver"
)

// users is a repeatable name:password flag.
type users []awxtest.User

func (u *users) String() string { return fmt.Sprint(len(*u), " users") }

func (u *users) Set(v string) error {
	name, password, ok := strings.Cut(v, ":")
	if !ok || name == "" || password == "" {
		return fmt.Errorf("%q is not name:password", v)
	}
	*u = append(*u, awxtest.User{Username: name, Password: password})
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8052", "The address to serve on.")
	logFile := flag.String("log", "", "A file to append the request log to, besides standard error.")
	var plain, admins users
	flag.Var(&plain, "user", "A user, as name:password (repeatable).")
	flag.Var(&admins, "admin", "A superuser, as name:password (repeatable).")
	flag.Parse()

	out := io.Writer(os.Stderr)
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		out = io.MultiWriter(os.Stderr, f)
	}
	logger := log.New(out, "", 0)
	logf := func(format string, args ...any) {
		logger.Printf("%s %s", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
	}

	srv := awxtest.NewUnstartedServer(awxtest.Options{})
	for _, u := range plain {
		srv.AddUser(u)
	}
	for _, u := range admins {
		u.Superuser = true
		srv.AddUser(u)
	}
	// The server is served by this program's own listener: the local one it
	// reserved for starting on its own goes unused.
	srv.Close()
	front := &http.Server{Addr: *listen, Handler: testserver.LogRequestsIf(logf, "awx", srv, worthLogging), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		logf("stopping")
		_ = front.Close()
	}()
	logf("serving AWX on http://%s", *listen)
	if err := front.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}

// worthLogging is any request but a consumer's successful call, of which they
// make several a second.
func worthLogging(r *http.Request, status int) bool {
	return r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/me/") || status != http.StatusOK
}
