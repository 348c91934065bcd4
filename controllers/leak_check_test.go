package controllers

import (
	"flag"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// Leak detection: every token value any test server issued, checked at the end of
// the suite against every log line and event.
var (
	leakMu      sync.Mutex
	tokenValues = map[string]bool{}
	logSink     strings.Builder
	eventNotes  []string
)

func rememberTokenValues(srv *awxtest.Server) {
	leakMu.Lock()
	defer leakMu.Unlock()
	for _, v := range srv.IssuedValues() {
		tokenValues[v] = true
	}
}

// syncWriter collects the suite's log lines.
type syncWriter struct{}

func (syncWriter) Write(p []byte) (int, error) {
	leakMu.Lock()
	defer leakMu.Unlock()
	return logSink.Write(p)
}

// capturingRecorder keeps the events of hand-driven reconciles for the leak check.
type capturingRecorder struct{}

var _ events.EventRecorder = capturingRecorder{}

func (capturingRecorder) Eventf(_, _ runtime.Object, eventtype, reason, action, note string, args ...any) {
	leakMu.Lock()
	defer leakMu.Unlock()
	eventNotes = append(eventNotes, fmt.Sprintf("%s %s %s: %s", eventtype, reason, action, fmt.Sprintf(note, args...)))
}

// rememberSecretTokens registers the token values, passwords and signing keys a
// Secret may hold, under the keys of either kind.
func rememberSecretTokens(s *corev1.Secret) {
	keys := []string{deviceAccessTokenKey, deviceRefreshTokenKey, "password", "secret"}
	for _, k := range personalTokenSecretKeys {
		keys = append(keys, k.token)
	}
	for _, key := range keys {
		if v := s.Data[key]; len(v) > 0 {
			rememberDeviceHiveValues(string(v))
		}
	}
}

// rememberDeviceHiveValues registers values for the suite's leak check.
func rememberDeviceHiveValues(values ...string) {
	leakMu.Lock()
	defer leakMu.Unlock()
	for _, v := range values {
		if v != "" {
			tokenValues[v] = true
		}
	}
}

// findLeaks searches every log line and event of the suite (those recorded by
// hand-driven reconciles and those in the API server) for every token value the
// test servers issued.
func findLeaks() []string {
	var list eventsv1.EventList
	if err := k8sClient.List(ctx, &list); err != nil {
		return []string{fmt.Sprintf("failed to list events: %v", err)}
	}
	leakMu.Lock()
	defer leakMu.Unlock()
	texts := append([]string{logSink.String()}, eventNotes...)
	for _, ev := range list.Items {
		texts = append(texts, ev.Note)
	}
	// A full run mints tokens; recording none would make the check prove nothing.
	// A run filtered with -run may legitimately mint none.
	if len(tokenValues) == 0 && flag.Lookup("test.run").Value.String() == "" {
		return []string{"no token value was recorded: the leak check would prove nothing"}
	}
	var leaks []string
	for value := range tokenValues {
		for _, text := range texts {
			if strings.Contains(text, value) {
				leaks = append(leaks, fmt.Sprintf("a token value appears in: %.200s", text))
			}
		}
	}
	return leaks
}
