package awxtest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

const (
	defaultPageSize = 25
	maxPageSize     = 200
)

// reservedParams are query parameters that are not field filters (AWX's
// FieldLookupBackend.RESERVED_NAMES).
var reservedParams = map[string]bool{
	"page": true, "page_size": true, "format": true, "order": true, "order_by": true, "search": true,
	"type": true, "host_filter": true, "count_disabled": true, "no_truncate": true, "limit": true,
}

// list filters, searches, orders and pages tokens like AWX's generic list
// views. Callers hold s.mu.
func (s *Server) list(r *http.Request, pool []*token) reply {
	q := r.URL.Query()
	var filters []filter
	for key, values := range q {
		if reservedParams[key] {
			continue
		}
		for _, v := range values {
			f, rep := parseFilter(key, v)
			if rep != nil {
				return *rep
			}
			filters = append(filters, f)
		}
	}
	terms := searchTerms(q["search"])
	var hits []*token
	for _, t := range pool {
		if matchesAll(t, filters) && matchesSearch(t, terms) {
			hits = append(hits, t)
		}
	}
	if rep := orderTokens(hits, orderParam(q)); rep != nil {
		return *rep
	}
	return s.page(r, q, hits)
}

func matchesAll(t *token, filters []filter) bool {
	for _, f := range filters {
		if !f.match(t) {
			return false
		}
	}
	return true
}

// searchTerms splits search values on commas and white space; every term
// must appear in the description, case-insensitively.
func searchTerms(values []string) []string {
	var terms []string
	for _, v := range values {
		terms = append(terms, strings.Fields(strings.ReplaceAll(v, ",", " "))...)
	}
	return terms
}

func matchesSearch(t *token, terms []string) bool {
	d := strings.ToLower(t.description)
	for _, term := range terms {
		if !strings.Contains(d, strings.ToLower(term)) {
			return false
		}
	}
	return true
}

func orderParam(q url.Values) string {
	if v := q.Get("order_by"); v != "" {
		return v
	}
	return q.Get("order")
}

// orderTokens sorts by the comma-separated order_by fields ("-" for
// descending), then by id as the model's default ordering does.
func orderTokens(ts []*token, spec string) *reply {
	type key struct {
		f    tokenField
		desc bool
	}
	var keys []key
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		desc := strings.HasPrefix(name, "-")
		name = strings.TrimPrefix(name, "-")
		f, ok := tokenFields[name]
		if !ok || name == "token" {
			rep := detail(http.StatusBadRequest, "Cannot resolve keyword '"+name+"' into field. Choices are: "+fieldChoices()+".")
			return &rep
		}
		keys = append(keys, key{f, desc})
	}
	keys = append(keys, key{f: tokenFields["id"]})
	sort.SliceStable(ts, func(i, j int) bool {
		for _, k := range keys {
			c := compareValues(k.f.get(ts[i]), k.f.get(ts[j]))
			if c == 0 {
				continue
			}
			return (c < 0) != k.desc
		}
		return false
	})
	return nil
}

// page cuts one page and builds next/previous as AWX does: the request's own
// path and query with page replaced, and page_size capped at 200.
func (s *Server) page(r *http.Request, q url.Values, ts []*token) reply {
	size := defaultPageSize
	if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > 0 {
		size = min(n, maxPageSize)
	}
	pages := max(1, (len(ts)+size-1)/size)
	number := 1
	if v := q.Get("page"); v == "last" {
		number = pages
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return detail(http.StatusNotFound, textInvalidPage)
		}
		number = n
	}
	if number > pages {
		return detail(http.StatusNotFound, textInvalidPage)
	}
	lo := (number - 1) * size
	hi := min(lo+size, len(ts))
	results := make([]any, 0, hi-lo)
	for _, t := range ts[lo:hi] {
		results = append(results, s.tokenJSON(t, false))
	}
	link := func(n int) any {
		lq := url.Values{}
		for k, v := range q {
			lq[k] = v
		}
		if n, err := strconv.Atoi(q.Get("page_size")); err == nil && n > maxPageSize {
			lq.Set("page_size", strconv.Itoa(maxPageSize))
		}
		lq.Set("page", strconv.Itoa(n))
		return r.URL.Path + "?" + lq.Encode()
	}
	var next, previous any
	if number < pages {
		next = link(number + 1)
	}
	if number > 1 {
		previous = link(number - 1)
	}
	return jsonReply(http.StatusOK, map[string]any{
		"count": len(ts), "next": next, "previous": previous, "results": results,
	})
}
