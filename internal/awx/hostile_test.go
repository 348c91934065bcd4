package awx_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
)

// hostileLister answers every token list with a full page of large tokens that
// ignore the filters, and a next page, forever.
func hostileLister(t *testing.T, description string) (url string, pages *atomic.Int32) {
	pages = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/me/") {
			_, _ = w.Write([]byte(`{"count":1,"results":[{"id":1,"username":"alice"}]}`))
			return
		}
		n := pages.Add(1)
		results := make([]map[string]any, 200)
		for i := range results {
			results[i] = map[string]any{"id": int(n)*1000 + i, "user": 1, "description": description,
				"scope": "write", "created": "2026-12-01T08:00:00Z"}
		}
		next := fmt.Sprintf("%s?page=%d", r.URL.Path, n+1)
		_ = json.NewEncoder(w).Encode(map[string]any{"count": 1 << 30, "next": next, "results": results})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, pages
}

func TestClient_ListTokens_BoundsWhatAHostileServerCanSend(t *testing.T) {
	url, pages := hostileLister(t, strings.Repeat("x", 500))
	c := newClient(t, url, awx.APIController, bearer("test-bearer"))
	_, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: 1, DescriptionContains: "[token-operator ",
		Keep: func(tok awx.Token) bool { return strings.Contains(tok.Description, "[token-operator ") }})
	if !errors.Is(err, awx.ErrMalformedReply) || awx.IsTransient(err) {
		t.Fatalf("ListTokens = %v, want a malformed reply that is not retried as is", err)
	}
	if n := pages.Load(); n > 50 {
		t.Errorf("read %d pages, want at most 50", n)
	}
}

func TestClient_ListTokens_RefusesAnOversizedReply(t *testing.T) {
	url, _ := hostileLister(t, strings.Repeat("x", 30000)) // 200 tokens of 30 kB: 6 MB
	c := newClient(t, url, awx.APIController, bearer("test-bearer"))
	_, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: 1})
	if !errors.Is(err, awx.ErrMalformedReply) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ListTokens = %v, want a reply too large", err)
	}
}
