package awxtest

import (
	"net/http"
	"strconv"
	"strings"
)

// apiDesc is one API the server answers: the controller API (at /api/v2/, or
// /api/controller/v2/ behind a gateway) or the gateway API.
type apiDesc struct {
	prefix  string
	gateway bool
}

// mask is what replies show in place of a token value after creation.
func (a apiDesc) mask() string {
	if a.gateway {
		return "$encrypted$"
	}
	return "************"
}

type endpoint int

const (
	epMe         endpoint = iota + 1 // me/
	epTokens                         // tokens/
	epToken                          // tokens/{id}/
	epUserTokens                     // users/{id}/personal_tokens/
)

type route struct {
	api apiDesc
	ep  endpoint
	id  int64
}

// route maps a path to an endpoint; Django's URL patterns want the trailing
// slash and numeric ids.
func (s *Server) route(path string) (route, bool) {
	for _, a := range s.apis {
		rest, ok := strings.CutPrefix(path, a.prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rest, "/")
		if len(parts) < 2 || parts[len(parts)-1] != "" {
			return route{}, false
		}
		parts = parts[:len(parts)-1]
		switch {
		case len(parts) == 1 && parts[0] == "me":
			return route{api: a, ep: epMe}, true
		case len(parts) == 1 && parts[0] == "tokens":
			return route{api: a, ep: epTokens}, true
		case len(parts) == 2 && parts[0] == "tokens":
			id, ok := parseID(parts[1])
			return route{api: a, ep: epToken, id: id}, ok
		case len(parts) == 3 && parts[0] == "users" && parts[2] == "personal_tokens":
			id, ok := parseID(parts[1])
			return route{api: a, ep: epUserTokens, id: id}, ok
		}
		return route{}, false
	}
	return route{}, false
}

func parseID(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// kind names the call for the counters; "" when the method has no handler.
func (rt route) kind(method string) string {
	switch rt.ep {
	case epMe:
		if method == http.MethodGet {
			return KindMe
		}
	case epTokens, epUserTokens:
		switch method {
		case http.MethodGet:
			return KindList
		case http.MethodPost:
			return KindCreate
		}
	case epToken:
		switch method {
		case http.MethodGet:
			return KindGet
		case http.MethodPut, http.MethodPatch:
			return KindUpdate
		case http.MethodDelete:
			return KindDelete
		}
	}
	return ""
}

// handle authenticates and dispatches, all under the lock so that each
// request sees and leaves a consistent store.
func (s *Server) handle(r *http.Request, rt route, body []byte) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	p, rep, ok := s.authenticate(r.Header.Get("Authorization"), now)
	if !ok {
		return rep
	}
	if !safeMethod(r.Method) && p.tok != nil && !hasScope(p.tok.scope, "write") {
		return forbidden()
	}
	switch rt.ep {
	case epMe:
		if r.Method != http.MethodGet {
			return methodNotAllowed(r.Method, "GET, HEAD, OPTIONS")
		}
		return s.me(p, rt.api)
	case epTokens:
		switch r.Method {
		case http.MethodGet:
			return s.list(r, s.visibleTokens(p, rt.api, 0))
		case http.MethodPost:
			return s.create(p, rt.api, r, body, true)
		}
		return methodNotAllowed(r.Method, "GET, POST, HEAD, OPTIONS")
	case epToken:
		return s.tokenDetail(p, rt, r, body, now)
	case epUserTokens:
		return s.userTokens(p, rt, r, body)
	}
	return notFound()
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func hasScope(scope, want string) bool {
	for _, w := range strings.Fields(scope) {
		if w == want {
			return true
		}
	}
	return false
}

// userTokens serves users/{id}/personal_tokens/. On the controller API a
// non-superuser may only name itself (403 for another user, 404 for nobody),
// a superuser may name anyone or no one, and the list and the new token are
// the caller's whatever the id. On the gateway it is a read-only list of
// user {id}'s tokens.
func (s *Server) userTokens(p principal, rt route, r *http.Request, body []byte) reply {
	if rt.api.gateway && r.Method != http.MethodGet {
		return methodNotAllowed(r.Method, "GET, HEAD, OPTIONS")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return methodNotAllowed(r.Method, "GET, POST, HEAD, OPTIONS")
	}
	target := s.userByID(rt.id)
	if !p.user.Superuser || rt.api.gateway {
		switch {
		case target == nil:
			return detail(http.StatusNotFound, textNoUser)
		case target.ID == p.user.ID, p.admin() && r.Method == http.MethodGet:
		default:
			return forbidden()
		}
	}
	if r.Method == http.MethodPost {
		return s.create(p, rt.api, r, body, false)
	}
	owner := p.user.ID
	if rt.api.gateway {
		owner = target.ID
	}
	return s.list(r, s.visibleTokens(p, rt.api, owner))
}

// visibleTokens are the tokens of api that the caller may list: its own, or
// every user's for a superuser or system auditor; only owner's when owner is
// not zero.
func (s *Server) visibleTokens(p principal, api apiDesc, owner int64) []*token {
	var out []*token
	for _, t := range s.tokens {
		switch {
		case t.api != api:
		case owner != 0 && t.userID != owner:
		case owner == 0 && t.userID != p.user.ID && !p.admin():
		default:
			out = append(out, t)
		}
	}
	return out
}
