package awxtest

import (
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// principal is who a request authenticated as; tok is set for Bearer auth.
type principal struct {
	user *User
	tok  *token
}

// admin reports a superuser or system auditor: they see every user's tokens.
func (p principal) admin() bool { return p.user.Superuser || p.user.SystemAuditor }

// authenticate follows DRF's BasicAuthentication and django-oauth-toolkit's
// OAuth2Authentication: a bad password is "Invalid username/password.", an
// unknown or expired Bearer token is simply not authenticated. A token that
// authenticates gets last_used stamped. Callers hold s.mu.
func (s *Server) authenticate(header string, now time.Time) (principal, reply, bool) {
	scheme, cred, _ := strings.Cut(header, " ")
	switch strings.ToLower(scheme) {
	case "basic":
		return s.basicAuth(cred)
	case "bearer":
		t := s.byValue[strings.TrimSpace(cred)]
		if t == nil || !now.Before(t.expires) {
			break
		}
		u := s.userByID(t.userID)
		if u == nil {
			break
		}
		t.lastUsed = now
		return principal{user: u, tok: t}, reply{}, true
	}
	return principal{}, unauthorized(textNotProvided), false
}

func (s *Server) basicAuth(cred string) (principal, reply, bool) {
	cred = strings.TrimSpace(cred)
	switch {
	case cred == "":
		return principal{}, unauthorized("Invalid basic header. No credentials provided." + loginHint), false
	case strings.Contains(cred, " "):
		return principal{}, unauthorized("Invalid basic header. Credentials string should not contain spaces." + loginHint), false
	}
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return principal{}, unauthorized("Invalid basic header. Credentials not correctly base64 encoded." + loginHint), false
	}
	name, password, _ := strings.Cut(string(raw), ":")
	u := s.userByName(name)
	if u == nil || u.Password != password {
		return principal{}, unauthorized(textInvalidLogin), false
	}
	return principal{user: u}, reply{}, true
}

// me answers /me/ with the one-item list AWX and the gateway send.
func (s *Server) me(p principal, api apiDesc) reply {
	u := p.user
	var external any
	if u.ExternalProvider != "" {
		external = u.ExternalProvider
	}
	return jsonReply(http.StatusOK, map[string]any{
		"count": 1, "next": nil, "previous": nil,
		"results": []any{map[string]any{
			"id":                u.ID,
			"type":              "user",
			"url":               userURL(api, u.ID),
			"username":          u.Username,
			"first_name":        "",
			"last_name":         "",
			"email":             "",
			"is_superuser":      u.Superuser,
			"is_system_auditor": u.SystemAuditor,
			"external_account":  external,
		}},
	})
}
