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

	"github.com/go-logr/logr"
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
	serve := filtered(t, cfg, httpClient)

	for _, tc := range []struct {
		name          string
		authorization string
		want          int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"not a bearer token", "Basic " + prometheus, http.StatusUnauthorized},
		{"a token nobody holds", "Bearer not-a-token", http.StatusUnauthorized},
		{"a ServiceAccount without the metrics-reader role", "Bearer " + stranger, http.StatusForbidden},
		{"a ServiceAccount bound to the metrics-reader role", "Bearer " + prometheus, http.StatusOK},
		{"the scheme in lower case", "bearer " + prometheus, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := serve(tc.authorization)
			NewWithT(t).Expect(code).To(Equal(tc.want), body)
			if tc.want != http.StatusOK {
				NewWithT(t).Expect(body).NotTo(Or(ContainSubstring("metrics here"), ContainSubstring(prometheus), ContainSubstring(stranger)))
			}
		})
	}

	t.Run("a scraper's answers are kept: one review each way, however often it scrapes", func(t *testing.T) {
		g := NewWithT(t)
		before := reviews.counts()
		for range 5 {
			code, _ := serve("Bearer " + prometheus)
			g.Expect(code).To(Equal(http.StatusOK))
			code, _ = serve("Bearer " + stranger)
			g.Expect(code).To(Equal(http.StatusForbidden))
			code, _ = serve("Bearer not-a-token")
			g.Expect(code).To(Equal(http.StatusUnauthorized))
		}
		g.Expect(reviews.counts()).To(Equal(before))
		g.Expect(before).To(Equal(map[string]int{"tokenreviews": 3, "subjectaccessreviews": 2}))
	})

	t.Run("an API server it cannot reach refuses everyone, asking to try again", func(t *testing.T) {
		g := NewWithT(t)
		unreachable := rest.CopyConfig(cfg)
		unreachable.Host = "https://127.0.0.1:1"
		httpClient, err := rest.HTTPClientFor(unreachable)
		g.Expect(err).NotTo(HaveOccurred())
		code, body := filtered(t, unreachable, httpClient)("Bearer " + prometheus)
		g.Expect(code).To(Equal(http.StatusServiceUnavailable))
		g.Expect(body).To(ContainSubstring("try again"))
		g.Expect(body).NotTo(ContainSubstring(prometheus))
	})
}

// filtered serves "metrics here" behind the filter, and returns a function that
// asks for /metrics with an Authorization header.
func filtered(t *testing.T, cfg *rest.Config, httpClient *http.Client) func(authorization string) (int, string) {
	t.Helper()
	filter, err := metricsAccessFilter(cfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := filter(logr.Discard(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "metrics here")
	}))
	if err != nil {
		t.Fatal(err)
	}
	return func(authorization string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
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
