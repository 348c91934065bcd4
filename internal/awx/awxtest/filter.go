package awxtest

import (
	"cmp"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type fieldKind int

const (
	intField fieldKind = iota
	stringField
	timeField
)

// tokenField is a filterable, orderable column. get returns int64, string,
// time.Time, or nil for NULL.
type tokenField struct {
	kind fieldKind
	get  func(*token) any
}

var tokenFields = map[string]tokenField{
	"id":          {intField, func(t *token) any { return t.id }},
	"user":        {intField, func(t *token) any { return t.userID }},
	"application": {intField, func(*token) any { return nil }},
	"description": {stringField, func(t *token) any { return t.description }},
	"scope":       {stringField, func(t *token) any { return t.scope }},
	"created":     {timeField, func(t *token) any { return t.created }},
	"modified":    {timeField, func(t *token) any { return t.modified }},
	"expires":     {timeField, func(t *token) any { return t.expires }},
	"last_used": {timeField, func(t *token) any {
		if t.lastUsed.IsZero() {
			return nil
		}
		return t.lastUsed
	}},
	// token is listed so that filtering on it gets AWX's 403, not a 400.
	"token": {stringField, func(t *token) any { return t.value }},
}

// lookups are the Django field lookups this server understands.
var lookups = map[string]bool{
	"exact": true, "iexact": true, "contains": true, "icontains": true, "startswith": true,
	"istartswith": true, "endswith": true, "iendswith": true, "in": true, "isnull": true,
	"gt": true, "gte": true, "lt": true, "lte": true,
}

// filter is one field=value condition from the query string.
type filter struct {
	field  tokenField
	lookup string
	raw    string
	values []any
	isNull bool
	negate bool
}

// parseFilter reads key=value the way AWX's FieldLookupBackend does,
// including the not__ prefix, and refuses the token value (403).
func parseFilter(key, value string) (filter, *reply) {
	fail := func(status int, text string) (filter, *reply) {
		rep := detail(status, text)
		return filter{}, &rep
	}
	f := filter{lookup: "exact", raw: value}
	if rest, ok := strings.CutPrefix(key, "not__"); ok {
		f.negate, key = true, rest
	}
	parts := strings.Split(key, "__")
	name := parts[0]
	if name == "pk" {
		name = "id"
	}
	if name == "token" {
		return fail(http.StatusForbidden, "Filtering on token is not allowed.")
	}
	field, ok := tokenFields[name]
	if !ok {
		return fail(http.StatusBadRequest, "OAuth2AccessToken has no field named '"+name+"'")
	}
	f.field = field
	if len(parts) == 2 {
		f.lookup = parts[1]
	}
	if len(parts) > 2 || !lookups[f.lookup] {
		return fail(http.StatusBadRequest, "Unsupported lookup '"+strings.Join(parts[1:], "__")+"' for "+name+" or join on the field not permitted.")
	}
	switch f.lookup {
	case "isnull":
		b, ok := pyBool(value)
		if !ok {
			return fail(http.StatusBadRequest, `Unable to convert "`+value+`" to boolean`)
		}
		f.isNull = b
		return f, nil
	case "exact", "in", "gt", "gte", "lt", "lte":
		raws := []string{value}
		if f.lookup == "in" {
			raws = strings.Split(value, ",")
		}
		for _, r := range raws {
			v, msg := parseValue(field.kind, r)
			if msg != "" {
				return fail(http.StatusBadRequest, msg)
			}
			f.values = append(f.values, v)
		}
	}
	return f, nil
}

func pyBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1", "t":
		return true, true
	case "false", "0", "f":
		return false, true
	}
	return false, false
}

// timeFilterLayouts are what Django's DateTimeField accepts.
var timeFilterLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02",
}

func parseValue(kind fieldKind, s string) (any, string) {
	switch kind {
	case intField:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, "Field 'id' expected a number but got '" + s + "'."
		}
		return n, ""
	case timeField:
		for _, layout := range timeFilterLayouts {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return t.UTC(), ""
			}
		}
		return nil, `["“` + s + `” value has an invalid format. It must be in YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."]`
	}
	return s, ""
}

func (f filter) match(t *token) bool { return f.matchValue(f.field.get(t)) != f.negate }

// matchValue follows SQL: NULL matches nothing but isnull.
func (f filter) matchValue(v any) bool {
	if f.lookup == "isnull" {
		return (v == nil) == f.isNull
	}
	if v == nil {
		return false
	}
	s, p := stringForm(v), f.raw
	switch f.lookup {
	case "exact":
		return compareValues(v, f.values[0]) == 0
	case "in":
		for _, want := range f.values {
			if compareValues(v, want) == 0 {
				return true
			}
		}
		return false
	case "gt":
		return compareValues(v, f.values[0]) > 0
	case "gte":
		return compareValues(v, f.values[0]) >= 0
	case "lt":
		return compareValues(v, f.values[0]) < 0
	case "lte":
		return compareValues(v, f.values[0]) <= 0
	case "iexact":
		return strings.EqualFold(s, p)
	case "contains":
		return strings.Contains(s, p)
	case "icontains":
		return strings.Contains(strings.ToLower(s), strings.ToLower(p))
	case "startswith":
		return strings.HasPrefix(s, p)
	case "istartswith":
		return strings.HasPrefix(strings.ToLower(s), strings.ToLower(p))
	case "endswith":
		return strings.HasSuffix(s, p)
	case "iendswith":
		return strings.HasSuffix(strings.ToLower(s), strings.ToLower(p))
	}
	return false
}

func stringForm(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return formatTime(x)
	case string:
		return x
	}
	return ""
}

// compareValues orders two values of one field; NULL sorts last, as in
// PostgreSQL.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case int64:
		return cmp.Compare(x, b.(int64))
	case time.Time:
		return x.Compare(b.(time.Time))
	case string:
		return strings.Compare(x, b.(string))
	}
	return 0
}

// fieldChoices lists the field names as Django's FieldError does.
func fieldChoices() string {
	names := make([]string, 0, len(tokenFields))
	for n := range tokenFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
