package awxtest

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"time"
)

// tokenAlphabet and tokenLength are oauthlib's generate_token defaults.
const (
	tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	tokenLength   = 30
)

// create makes a token owned by the caller, whatever user the URL names.
// Validation comes first, then the external-provider refusal (raised when the
// row is saved). onTokens is POST tokens/, where application is writable.
func (s *Server) create(p principal, api apiDesc, r *http.Request, body []byte, onTokens bool) reply {
	fields, rep := parseBody(r, body)
	if rep != nil {
		return *rep
	}
	description, scope, errs := validateEdits(api, fields, "", "write")
	if raw, ok := fields["application"]; ok && onTokens {
		if msgs := validateApplication(raw); msgs != nil {
			errs["application"] = msgs
		}
	}
	if len(errs) > 0 {
		return fieldErrors(errs)
	}
	if p.user.ExternalProvider != "" {
		return detail(http.StatusForbidden, textExternalPrefix+"("+p.user.ExternalProvider+")")
	}
	now := s.now()
	s.lastToken++
	t := &token{
		id: s.lastToken, userID: p.user.ID, description: description, scope: scope,
		value: s.newValue(), api: api, created: now, modified: now, expires: s.expiry(now),
	}
	s.tokens[t.id] = t
	s.byValue[t.value] = t
	s.issued = append(s.issued, t.value)
	created := jsonReply(http.StatusCreated, s.tokenJSON(t, true))
	created.header = http.Header{"Location": {tokenURL(api, t.id)}}
	return created
}

// newValue draws 30 characters of [A-Za-z0-9] from crypto/rand. Callers
// hold s.mu.
func (s *Server) newValue() string {
	for {
		b := make([]byte, tokenLength)
		for i := range b {
			b[i] = tokenAlphabet[randIndex(len(tokenAlphabet))]
		}
		if v := string(b); s.byValue[v] == nil {
			return v
		}
	}
}

// randIndex is uniform in [0, n) by rejection sampling.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("awxtest: crypto/rand: " + err.Error())
		}
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// tokenDetail serves tokens/{id}/. Only the owner and a superuser see a token
// (a system auditor may read it); for anyone else it does not exist.
func (s *Server) tokenDetail(p principal, rt route, r *http.Request, body []byte, now time.Time) reply {
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return methodNotAllowed(r.Method, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS")
	}
	t := s.tokens[rt.id]
	if t == nil || t.api != rt.api || (t.userID != p.user.ID && !p.admin()) {
		return detail(http.StatusNotFound, textNoToken)
	}
	if t.userID != p.user.ID && !p.user.Superuser && r.Method != http.MethodGet {
		return forbidden()
	}
	switch r.Method {
	case http.MethodDelete:
		delete(s.tokens, t.id)
		delete(s.byValue, t.value)
		return reply{status: http.StatusNoContent}
	case http.MethodPut, http.MethodPatch:
		return s.update(t, rt.api, r, body, now)
	}
	return jsonReply(http.StatusOK, s.tokenJSON(t, false))
}

// update changes description and scope only; other fields are read-only and
// ignored. PUT needs no field either, as none is required.
func (s *Server) update(t *token, api apiDesc, r *http.Request, body []byte, now time.Time) reply {
	fields, rep := parseBody(r, body)
	if rep != nil {
		return *rep
	}
	description, scope, errs := validateEdits(api, fields, t.description, t.scope)
	if len(errs) > 0 {
		return fieldErrors(errs)
	}
	t.description, t.scope, t.modified = description, scope, now
	return jsonReply(http.StatusOK, s.tokenJSON(t, false))
}

// tokenJSON is the serializer's output, fields in AWX's order; the value is
// shown only in the create reply. last_used is stored but not shown.
func (s *Server) tokenJSON(t *token, reveal bool) any {
	value := t.api.mask()
	if reveal {
		value = t.value
	}
	owner := s.userByID(t.userID)
	return struct {
		ID            int64          `json:"id"`
		Type          string         `json:"type"`
		URL           string         `json:"url"`
		Related       map[string]any `json:"related"`
		SummaryFields map[string]any `json:"summary_fields"`
		Created       string         `json:"created"`
		Modified      string         `json:"modified"`
		Description   string         `json:"description"`
		User          int64          `json:"user"`
		Token         string         `json:"token"`
		RefreshToken  *string        `json:"refresh_token"`
		Application   *int64         `json:"application"`
		Expires       string         `json:"expires"`
		Scope         string         `json:"scope"`
	}{
		ID:   t.id,
		Type: "o_auth2_access_token",
		URL:  tokenURL(t.api, t.id),
		Related: map[string]any{
			"user":            userURL(t.api, t.userID),
			"activity_stream": tokenURL(t.api, t.id) + "activity_stream/",
		},
		SummaryFields: map[string]any{"user": map[string]any{
			"id": owner.ID, "username": owner.Username, "first_name": "", "last_name": "",
		}},
		Created:     formatTime(t.created),
		Modified:    formatTime(t.modified),
		Description: t.description,
		User:        t.userID,
		Token:       value,
		Expires:     formatTime(t.expires),
		Scope:       t.scope,
	}
}

func tokenURL(api apiDesc, id int64) string {
	return api.prefix + "tokens/" + strconv.FormatInt(id, 10) + "/"
}

func userURL(api apiDesc, id int64) string {
	return api.prefix + "users/" + strconv.FormatInt(id, 10) + "/"
}
