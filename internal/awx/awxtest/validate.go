package awxtest

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Validation texts of DRF, AWX and django-ansible-base.
const (
	textNull            = "This field may not be null."
	textNotString       = "Not a valid string."
	textBlank           = "This field may not be blank."
	textControllerScope = "Must be a simple space-separated string with allowed scopes ['read', 'write']."
	textScopeTooLong    = "Ensure this field has no more than 32 characters."
)

// gatewayScopeMaxLength is the gateway model's max_length for scope.
const gatewayScopeMaxLength = 32

var allowedScopes = []string{"read", "write"}

// parseBody reads a JSON object the way DRF's JSONParser and a serializer's
// first check do; an empty body is an empty object.
func parseBody(r *http.Request, body []byte) (map[string]json.RawMessage, *reply) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		rep := detail(http.StatusUnsupportedMediaType, `Unsupported media type "`+r.Header.Get("Content-Type")+`" in request.`)
		return nil, &rep
	}
	if err := json.Unmarshal(body, new(any)); err != nil {
		rep := detail(http.StatusBadRequest, "JSON parse error - "+err.Error())
		return nil, &rep
	}
	v := decodeValue(body)
	if v == nil {
		rep := fieldErrors(map[string][]string{"non_field_errors": {"No data provided"}})
		return nil, &rep
	}
	if _, ok := v.(map[string]any); !ok {
		rep := fieldErrors(map[string][]string{"non_field_errors": {"Invalid data. Expected a dictionary, but got " + pyType(v) + "."}})
		return nil, &rep
	}
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(body, &obj)
	return obj, nil
}

// decodeValue decodes valid JSON keeping numbers as written.
func decodeValue(raw []byte) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	_ = d.Decode(&v)
	return v
}

// charField is DRF's CharField.to_internal_value: strings are trimmed,
// numbers become their Python str(), anything else is refused.
func charField(raw json.RawMessage) (string, string) {
	switch x := decodeValue(raw).(type) {
	case nil:
		return "", textNull
	case string:
		return strings.TrimSpace(x), ""
	case json.Number:
		return pyNumber(x), ""
	}
	return "", textNotString
}

// validateDescription checks the description field.
func validateDescription(raw json.RawMessage) (string, []string) {
	s, msg := charField(raw)
	if msg != "" {
		return "", []string{msg}
	}
	return s, nil
}

// validateScope checks the scope field with the texts of each flavour. AWX:
// blank allowed, then its own word check. Gateway: blank refused, then the
// model validator (words split on single spaces) and max_length, then AWX's
// word check (which catches repeats).
func validateScope(gateway bool, raw json.RawMessage) (string, []string) {
	s, msg := charField(raw)
	if msg != "" {
		return "", []string{msg}
	}
	if gateway {
		if s == "" {
			return "", []string{textBlank}
		}
		var msgs []string
		for _, w := range strings.Split(s, " ") {
			if !contains(allowedScopes, w) {
				msgs = append(msgs, "Invalid scope: "+w+". Must be one of: "+strings.Join(allowedScopes, ", "))
				break
			}
		}
		if len([]rune(s)) > gatewayScopeMaxLength {
			msgs = append(msgs, textScopeTooLong)
		}
		if len(msgs) > 0 {
			return "", msgs
		}
	}
	if !validWords(s) {
		return "", []string{textControllerScope}
	}
	return s, nil
}

// validWords is AWX's _is_valid_scope: non-empty, words from the allowed
// set, no repeats.
func validWords(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 {
		return false
	}
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] || !contains(allowedScopes, w) {
			return false
		}
		seen[w] = true
	}
	return true
}

// validateApplication refuses any application: this server has none, and
// personal tokens carry null.
func validateApplication(raw json.RawMessage) []string {
	v := decodeValue(raw)
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		return []string{`Invalid pk "` + pyNumber(x) + `" - object does not exist.`}
	case string:
		if _, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return []string{`Invalid pk "` + x + `" - object does not exist.`}
		}
	}
	return []string{"Incorrect type. Expected pk value, received " + pyType(v) + "."}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pyType names a decoded JSON value's Python type, for DRF's messages.
func pyType(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "float"
		}
		return "int"
	}
	return "object"
}

// pyNumber is Python's str() of a JSON number: ints as written, floats in
// repr form (5.0, 1e+16).
func pyNumber(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		return s
	}
	f, err := n.Float64()
	if err != nil {
		return s
	}
	exp := 0
	if f != 0 {
		exp = int(math.Floor(math.Log10(math.Abs(f))))
	}
	if exp < -4 || exp >= 16 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(out, ".") {
		out += ".0"
	}
	return out
}

// validateEdits checks the description and scope of a create or update body,
// with AWX's texts; a field the body leaves out keeps the value given.
func validateEdits(api apiDesc, fields map[string]json.RawMessage, description, scope string) (string, string, map[string][]string) {
	errs := map[string][]string{}
	if raw, ok := fields["description"]; ok {
		if v, msgs := validateDescription(raw); msgs != nil {
			errs["description"] = msgs
		} else {
			description = v
		}
	}
	if raw, ok := fields["scope"]; ok {
		if v, msgs := validateScope(api.gateway, raw); msgs != nil {
			errs["scope"] = msgs
		} else {
			scope = v
		}
	}
	return description, scope, errs
}
