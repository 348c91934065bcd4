package awxtest

import (
	"encoding/json"
	"net/http"
	"time"
)

// Texts quoted from AWX 24.6.1, Django REST framework and django-ansible-base.
const (
	loginHint          = " To establish a login session, visit /api/login/."
	textNotProvided    = "Authentication credentials were not provided." + loginHint
	textInvalidLogin   = "Invalid username/password." + loginHint
	textPermission     = "You do not have permission to perform this action."
	textNotFound       = "Not found."
	textNoToken        = "No OAuth2AccessToken matches the given query."
	textNoUser         = "No User matches the given query."
	textServerError    = "A server error has occurred."
	textInvalidPage    = "Invalid page."
	textExternalPrefix = "(access_denied) OAuth2 Tokens cannot be created by users associated with an external authentication provider "
	wwwAuthenticate    = "Bearer realm=api authorization_url=/api/o/authorize/"
)

// reply is a finished answer, built under the lock and written (or dropped)
// after it.
type reply struct {
	status int
	header http.Header
	body   any
}

func jsonReply(status int, body any) reply { return reply{status: status, body: body} }

func detail(status int, text string) reply {
	return jsonReply(status, map[string]string{"detail": text})
}

func fieldErrors(errs map[string][]string) reply { return jsonReply(http.StatusBadRequest, errs) }

func notFound() reply { return detail(http.StatusNotFound, textNotFound) }

func forbidden() reply { return detail(http.StatusForbidden, textPermission) }

func unauthorized(text string) reply {
	r := detail(http.StatusUnauthorized, text)
	r.header = http.Header{"Www-Authenticate": {wwwAuthenticate}}
	return r
}

func methodNotAllowed(method string, allowed string) reply {
	r := detail(http.StatusMethodNotAllowed, `Method "`+method+`" not allowed.`)
	r.header = http.Header{"Allow": {allowed}}
	return r
}

func (r reply) write(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.status == http.StatusNoContent {
		w.WriteHeader(r.status)
		return
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		http.Error(w, `{"detail": "`+textServerError+`"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, _ = w.Write(b)
}

// formatTime writes a time as DRF does: UTC, microseconds, and no fraction
// at all when it is zero (Python's isoformat drops it).
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}
