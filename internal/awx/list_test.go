package awx_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestClient_ListTokens_PaginatesAndFilters(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			alice := newClient(t, e.srv.URL(), f.api, login(e.alice))
			bob := newClient(t, e.srv.URL(), f.api, login(e.bob))
			const n = 430
			for i := range n {
				mustCreate(t, alice, awx.CreateRequest{Description: fmt.Sprintf("bulk %03d", i), Scopes: write})
			}
			marked := mustCreate(t, alice, awx.CreateRequest{Description: "CI runner [tokenoperator:abc]", Scopes: write})
			mustCreate(t, bob, awx.CreateRequest{Description: "bob CI runner [tokenoperator:abc]", Scopes: write})
			e.srv.ResetCalls()

			all, err := alice.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID, OrderBy: "id"})
			if err != nil || len(all) != n+1 {
				t.Fatalf("ListTokens: %d tokens, %v", len(all), err)
			}
			if pages := e.srv.Calls(awxtest.KindList); pages != 3 {
				t.Errorf("%d pages, want 3 of 200", pages)
			}
			seen := map[int64]bool{}
			for i, tok := range all {
				if seen[tok.ID] || tok.UserID != e.alice.ID || (i > 0 && tok.ID < all[i-1].ID) {
					t.Fatalf("token %d repeated, foreign or out of order", tok.ID)
				}
				seen[tok.ID] = true
			}

			got, err := alice.ListTokens(ctx(t), awx.ListOptions{UserID: e.alice.ID, DescriptionContains: "[tokenoperator:abc]"})
			if err != nil || len(got) != 1 || got[0].ID != marked.ID {
				t.Errorf("by marker = %+v, %v", got, err)
			}
			got, err = alice.ListTokens(ctx(t), awx.ListOptions{Description: "bulk 007"})
			if err != nil || len(got) != 1 || got[0].Description != "bulk 007" {
				t.Errorf("by description = %+v, %v", got, err)
			}
			got, err = alice.ListTokens(ctx(t), awx.ListOptions{DescriptionContains: "Bulk"})
			if err != nil || len(got) != 0 {
				t.Errorf("description__contains is case-sensitive: %d, %v", len(got), err)
			}
			got, err = alice.ListTokens(ctx(t), awx.ListOptions{DescriptionContains: "bulk 00", OrderBy: "-created"})
			if err != nil || len(got) != 10 || got[0].Description != "bulk 009" {
				t.Errorf("newest first = %d, %v", len(got), err)
			}
		})
	}
}

func TestClient_ListTokens_SuperuserTrap(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, awxtest.Options{Flavor: f.server})
			marker := "[tokenoperator:trap]"
			mustCreate(t, newClient(t, e.srv.URL(), f.api, login(e.alice)), awx.CreateRequest{Description: "alice " + marker, Scopes: write})
			for _, admin := range []awxtest.User{e.root, e.auditor} {
				c := newClient(t, e.srv.URL(), f.api, login(admin))
				me, err := c.Me(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				if admin.Superuser {
					mustCreate(t, c, awx.CreateRequest{Description: "root " + marker, Scopes: write})
				}
				unfiltered, err := c.ListTokens(ctx(t), awx.ListOptions{DescriptionContains: marker})
				if err != nil || !hasUser(unfiltered, e.alice.ID) {
					t.Errorf("%s: unfiltered list should show alice's token (the trap): %+v, %v", admin.Username, unfiltered, err)
				}
				own, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: me.ID, DescriptionContains: marker})
				if err != nil || hasUser(own, e.alice.ID) || (admin.Superuser && len(own) != 1) {
					t.Errorf("%s: filtered list = %+v, %v", admin.Username, own, err)
				}
			}
			// A normal user sees only its own tokens, filter or not.
			bob, err := newClient(t, e.srv.URL(), f.api, login(e.bob)).ListTokens(ctx(t), awx.ListOptions{DescriptionContains: marker})
			if err != nil || len(bob) != 0 {
				t.Errorf("bob sees %+v, %v", bob, err)
			}
		})
	}
}

func hasUser(ts []awx.Token, id int64) bool {
	for _, tok := range ts {
		if tok.UserID == id {
			return true
		}
	}
	return false
}

func TestClient_ListTokens_SendsApplicationIsNull(t *testing.T) {
	var query string
	ts := newRecorder(t, func(r *http.Request) { query = r.URL.RawQuery })
	c := newClient(t, ts.URL, awx.APIController, awx.Credentials{Username: "a", Password: "b"})
	if _, err := c.ListTokens(ctx(t), awx.ListOptions{UserID: 7, Description: "d e", DescriptionContains: "[m]", OrderBy: "-created"}); err != nil {
		t.Fatal(err)
	}
	want := "application__isnull=true&description=d+e&description__contains=%5Bm%5D&order_by=-created&page_size=200&user=7"
	if query != want {
		t.Errorf("query %q, want %q", query, want)
	}
}
