package testenv

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logger returns a logger for one test's manager and reconciles: lines up to
// V(1) go to t's log, which `go test` shows only when the test fails, and every
// line, debug included, also goes to all (when not nil), for checks over the
// whole suite. Once the test's cleanups have run past the one Logger registers
// (cleanups registered later, such as stopping a manager, run before it), lines
// go to all only.
func Logger(t testing.TB, all io.Writer) logr.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	cores := []zapcore.Core{zapcore.NewCore(enc, zapcore.AddSync(w), zapcore.Level(-1))}
	if all != nil {
		cores = append(cores, zapcore.NewCore(enc, zapcore.AddSync(all), zapcore.Level(-5)))
	}
	return zapr.NewLogger(zap.New(zapcore.NewTee(cores...)))
}

// testWriter hands each line to t.Log until the test's cleanup starts: a line
// logged by a goroutine after the test has ended would otherwise panic.
type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

// LockedBuffer collects what a process, or several goroutines, write, for a
// test to read.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
