package operator

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestMetricsAccess puts the metrics endpoint's filter in front of a handler and
// asks it as Prometheus and strangers would, against a real API server: only a
// caller the API server authenticates and lets get /metrics gets through, a
// caller's repeated scrapes cost the API server one review each way, and a
// refusal never repeats the token.
func TestMetricsAccess(t *testing.T) {
	g := NewWithT(t)
	env, cfg, err := testenv.Start("../..")
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: NewScheme()})
	g.Expect(err).NotTo(HaveOccurred())
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}}
	g.Expect(c.Create(context.Background(), ns)).To(Succeed())
	prometheus := serviceAccountToken(t, c, ns.Name, "prometheus", true)
	stranger := serviceAccountToken(t, c, ns.Name, "stranger", false)

	httpClient, err := rest.HTTPClientFor(cfg)
	g.Expect(err).NotTo(HaveOccurred())
	reviews := &reviewCounter{next: httpClient.Transport}
	httpClient.Transport = reviews
	logs := &strings.Builder{}
	serve := filtered(t, cfg, httpClient, logs)
	t.Cleanup(func() {
		NewWithT(t).Expect(logs.String()).NotTo(Or(ContainSubstring(prometheus), ContainSubstring(stranger)), "no token in the logs")
	})

	for _, tc := range []struct {
		name          string
		method        string
		authorization string
		want          int
	}{
		{"no token", http.MethodGet, "", http.StatusUnauthorized},
		{"not a bearer token", http.MethodGet, "Basic " + prometheus, http.StatusUnauthorized},
		{"a token nobody holds", http.MethodGet, "Bearer not-a-token", http.StatusUnauthorized},
		{"two spaces before the token", http.MethodGet, "Bearer  " + prometheus, http.StatusUnauthorized},
		{"more after the token, which the API server ignores too", http.MethodGet, "Bearer " + prometheus + " x", http.StatusOK},
		{"a ServiceAccount without the metrics-reader role", http.MethodGet, "Bearer " + stranger, http.StatusForbidden},
		{"a ServiceAccount bound to the metrics-reader role", http.MethodGet, "Bearer " + prometheus, http.StatusOK},
		{"the scheme in lower case", http.MethodGet, "bearer " + prometheus, http.StatusOK},
		{"a method the role does not allow", http.MethodPost, "Bearer " + prometheus, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := serve(tc.method, tc.authorization)
			NewWithT(t).Expect(code).To(Equal(tc.want), body)
			if tc.want != http.StatusOK {
				NewWithT(t).Expect(body).NotTo(Or(ContainSubstring("metrics here"), ContainSubstring(prometheus), ContainSubstring(stranger)))
			} else {
				NewWithT(t).Expect(body).To(Equal("metrics here, to an anonymous caller"), "the caller's credentials stop at the filter")
			}
		})
	}

	t.Run("a scraper's answers are kept: one review each way, however often it scrapes", func(t *testing.T) {
		g := NewWithT(t)
		before := reviews.counts()
		for range 5 {
			code, _ := serve(http.MethodGet, "Bearer "+prometheus)
			g.Expect(code).To(Equal(http.StatusOK))
			code, _ = serve(http.MethodGet, "Bearer "+stranger)
			g.Expect(code).To(Equal(http.StatusForbidden))
			code, _ = serve(http.MethodGet, "Bearer not-a-token")
			g.Expect(code).To(Equal(http.StatusUnauthorized))
		}
		g.Expect(reviews.counts()).To(Equal(before))
		g.Expect(before).To(Equal(map[string]int{"tokenreviews": 3, "subjectaccessreviews": 3}))
	})

	t.Run("an API server it cannot reach refuses everyone, asking to try again", func(t *testing.T) {
		g := NewWithT(t)
		unreachable := rest.CopyConfig(cfg)
		unreachable.Host = "https://127.0.0.1:1"
		httpClient, err := rest.HTTPClientFor(unreachable)
		g.Expect(err).NotTo(HaveOccurred())
		code, body := filtered(t, unreachable, httpClient, logs)(http.MethodGet, "Bearer "+prometheus)
		g.Expect(code).To(Equal(http.StatusServiceUnavailable))
		g.Expect(body).To(ContainSubstring("try again"))
		g.Expect(body).NotTo(ContainSubstring(prometheus))
		g.Expect(logs.String()).To(ContainSubstring("Failed to review a metrics request"))
	})
}

// filtered serves "metrics here" behind the filter, logging to logs, and returns
// a function that asks for /metrics with a method and an Authorization header.
func filtered(t *testing.T, cfg *rest.Config, httpClient *http.Client, logs *strings.Builder) func(method, authorization string) (int, string) {
	t.Helper()
	filter, err := metricsAccessFilter(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	log := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(prefix + args + "\n")
	}, funcr.Options{})
	handler, err := filter(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller := "an anonymous caller"
		if r.Header.Get("Authorization") != "" {
			caller = "a caller with credentials"
		}
		_, _ = io.WriteString(w, "metrics here, to "+caller)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return func(method, authorization string) (int, string) {
		req := httptest.NewRequest(method, "/metrics", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
}

// reviewCounter counts the reviews sent to the API server, by resource.
type reviewCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (r *reviewCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	for _, resource := range []string{"tokenreviews", "subjectaccessreviews"} {
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/"+resource) {
			if r.n == nil {
				r.n = map[string]int{}
			}
			r.n[resource]++
		}
	}
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *reviewCounter) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.n)
}
