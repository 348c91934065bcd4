package awxtest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestServer_ListPages(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	for i := range 60 {
		w.create(t, w.alice, fmt.Sprintf(`{"description": "t%02d"}`, i))
	}
	for _, tc := range []struct {
		query          string
		status         int
		results        int
		next, previous any
	}{
		{"", 200, 25, "/api/v2/tokens/?page=2", nil},
		{"?page=2", 200, 25, "/api/v2/tokens/?page=3", "/api/v2/tokens/?page=1"},
		{"?page=3&description__startswith=t", 200, 10, nil, "/api/v2/tokens/?description__startswith=t&page=2"},
		{"?page=last", 200, 10, nil, "/api/v2/tokens/?page=2"},
		{"?page=4", 404, 0, nil, nil},
		{"?page=0", 404, 0, nil, nil},
		{"?page_size=50", 200, 50, "/api/v2/tokens/?page=2&page_size=50", nil},
		{"?page_size=20&page=2", 200, 20, "/api/v2/tokens/?page=3&page_size=20", "/api/v2/tokens/?page=1&page_size=20"},
		{"?page_size=0", 200, 25, "/api/v2/tokens/?page=2&page_size=0", nil},
		{"?page_size=500", 200, 60, nil, nil},
		{"?page_size=30&page=2&description=nothing", 404, 0, nil, nil},
		{"?description=nothing", 200, 0, nil, nil},
	} {
		r := do(t, http.MethodGet, w.api+"tokens/"+tc.query, basic(w.alice), "")
		if r.status != tc.status {
			t.Errorf("%s: %d %s", tc.query, r.status, r.raw)
			continue
		}
		if r.status == 404 {
			if r.detail() != "Invalid page." {
				t.Errorf("%s: %s", tc.query, r.raw)
			}
			continue
		}
		if len(r.results()) != tc.results || r.body["next"] != tc.next || r.body["previous"] != tc.previous {
			t.Errorf("%s: %d results, next %v, previous %v", tc.query, len(r.results()), r.body["next"], r.body["previous"])
		}
	}
}

func TestServer_ListPageSizeCapInLinks(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorGateway})
	for range 201 {
		w.create(t, w.alice, `{}`)
	}
	r := do(t, http.MethodGet, w.api+"tokens/?page_size=1000", basic(w.alice), "")
	if r.body["count"] != 201.0 || len(r.results()) != 200 || r.body["next"] != "/api/gateway/v1/tokens/?page=2&page_size=200" {
		t.Errorf("count %v, %d results, next %v", r.body["count"], len(r.results()), r.body["next"])
	}
}

func TestServer_ListFilters(t *testing.T) {
	w := newWorld(t, awxtest.Options{Flavor: awxtest.FlavorController})
	ids := map[string]any{}
	for _, d := range []string{"CI runner [to:1]", "ci runner [to:2]", "Deploy bot"} {
		ids[d] = w.create(t, w.alice, `{"description": "`+d+`"}`).body["id"]
	}
	w.create(t, w.bob, `{"description": "CI runner [to:1]"}`)
	for _, tc := range []struct {
		query  string
		user   awxtest.User
		status int
		want   []string // descriptions, in order
		detail string
	}{
		{query: "description=Deploy+bot", want: []string{"Deploy bot"}},
		{query: "description__contains=runner", want: []string{"CI runner [to:1]", "ci runner [to:2]"}},
		{query: "description__contains=CI", want: []string{"CI runner [to:1]"}},
		{query: "description__icontains=CI", want: []string{"CI runner [to:1]", "ci runner [to:2]"}},
		{query: "description__startswith=Dep", want: []string{"Deploy bot"}},
		{query: "not__description__startswith=Dep", want: []string{"CI runner [to:1]", "ci runner [to:2]"}},
		{query: "search=RUNNER,2", want: []string{"ci runner [to:2]"}},
		{query: "id=" + fmt.Sprint(ids["Deploy bot"]), want: []string{"Deploy bot"}},
		{query: fmt.Sprintf("id__in=%v,%v", ids["Deploy bot"], ids["CI runner [to:1]"]), want: []string{"CI runner [to:1]", "Deploy bot"}},
		{query: "order_by=-id", want: []string{"Deploy bot", "ci runner [to:2]", "CI runner [to:1]"}},
		{query: "application__isnull=true&order_by=-created", want: []string{"Deploy bot", "ci runner [to:2]", "CI runner [to:1]"}},
		{query: "application__isnull=false"},
		{query: "user=2"},
		{query: "user=1&description__contains=[to:1]", want: []string{"CI runner [to:1]"}},
		{query: "description__contains=[to:1]", user: w.root, want: []string{"CI runner [to:1]", "CI runner [to:1]"}},
		{query: "token=abc", status: 403, detail: "Filtering on token is not allowed."},
		{query: "token__startswith=a", status: 403, detail: "Filtering on token is not allowed."},
		{query: "user=abc", status: 400, detail: "Field 'id' expected a number but got 'abc'."},
		{query: "bogus=1", status: 400, detail: "OAuth2AccessToken has no field named 'bogus'"},
		{query: "application__isnull=maybe", status: 400, detail: `Unable to convert "maybe" to boolean`},
		{query: "order_by=bogus", status: 400},
		{query: "last_used__gt=yesterday", status: 400},
	} {
		u := tc.user
		if u.Username == "" {
			u = w.alice
		}
		r := do(t, http.MethodGet, w.api+"tokens/?"+tc.query, basic(u), "")
		status := tc.status
		if status == 0 {
			status = 200
		}
		if r.status != status || (tc.detail != "" && r.detail() != tc.detail) {
			t.Errorf("%s: %d %s", tc.query, r.status, r.raw)
			continue
		}
		if status != 200 {
			continue
		}
		var got []string
		for _, tok := range r.results() {
			got = append(got, tok["description"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestServer_LastUsed(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(string(flavor), func(t *testing.T) {
			t0 := time.Date(2024, 7, 10, 12, 0, 0, 0, time.UTC)
			clk := clocktesting.NewFakePassiveClock(t0)
			w := newWorld(t, awxtest.Options{Flavor: flavor, Clock: clk})
			used := w.create(t, w.alice, `{"description": "used"}`).body
			w.create(t, w.alice, `{"description": "idle"}`)

			clk.SetTime(t0.Add(time.Minute))
			if r := do(t, http.MethodGet, w.api+"me/", bearer(used["token"].(string)), ""); r.status != 200 {
				t.Fatalf("me: %d", r.status)
			}
			live := w.srv.LiveTokens("alice")
			if !live[0].LastUsed.Equal(t0.Add(time.Minute)) || !live[1].LastUsed.IsZero() {
				t.Errorf("last used %v, %v", live[0].LastUsed, live[1].LastUsed)
			}
			if _, ok := used["last_used"]; ok {
				t.Error("last_used is in the reply")
			}
			for query, want := range map[string]string{
				"last_used__gt=" + url.QueryEscape(t0.Format(time.RFC3339Nano)):                             "[used]",
				"last_used__gt=" + url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339Nano)):            "[]",
				"last_used__gte=" + url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339Nano)):           "[used]",
				"last_used__gt=2024-07-10T12:00:30.5Z":                                                      "[used]",
				"last_used__isnull=true":                                                                    "[idle]",
				"id=" + fmt.Sprint(used["id"]) + "&last_used__gt=" + url.QueryEscape("2024-07-10 12:00:00"): "[used]",
			} {
				r := do(t, http.MethodGet, w.api+"tokens/?"+query, basic(w.alice), "")
				var got []string
				for _, tok := range r.results() {
					got = append(got, tok["description"].(string))
				}
				if r.status != 200 || fmt.Sprint(got) != want {
					t.Errorf("%s: %d %v, want %s", query, r.status, got, want)
				}
			}
		})
	}
}
