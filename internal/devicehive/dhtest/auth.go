package dhtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// Messages of the server, verbatim.
const (
	msgInvalidParams    = "Invalid request parameters"
	msgInvalidAuthReq   = "Invalid or empty authorization request parameters"
	msgBadActions       = "Actions list should contain only Strings or Integers"
	msgUserNotFound     = "User with id = %d not found"
	msgLoginNotFound    = "User with login = %s not found or bad password"
	msgBadCredentials   = "Invalid credentials"
	msgUserNotActive    = "User is locked or disabled"
	msgAccessDenied     = "Access is denied"
	msgUnauthorized     = "Unauthorized"
	msgInvalidTokenType = "Invalid token type"
	msgExpiredToken     = "Token has expired"
	msgInternal         = "Internal server error"
)

// noneActionID is what the server stores when a request omits "actions".
const noneActionID = 1

// servletError401 is the page the servlet error path returns for a bad or
// expired Bearer token: clients must cope with a body that is not JSON.
const servletError401 = `<!DOCTYPE html><html><head><title>Error</title></head><body>
<h1>Whitelabel Error Page</h1>
<p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p>
<div>There was an unexpected error (type=Unauthorized, status=401).</div>
<div>Unauthorized</div></body></html>`

// handleLogin is POST {base}/token: the user's own pair, at the max ages.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil {
		writeError(w, http.StatusBadRequest, msgInvalidParams)
		return
	}
	if strings.TrimSpace(req.Login) == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, msgInvalidAuthReq)
		return
	}
	u, ok := s.userByLogin(req.Login)
	switch {
	case !ok:
		writeError(w, http.StatusUnauthorized, fmt.Sprintf(msgLoginNotFound, req.Login))
		return
	case !u.Active:
		writeError(w, http.StatusForbidden, msgUserNotActive)
		return
	case u.Password != req.Password:
		writeError(w, http.StatusUnauthorized, msgBadCredentials)
		return
	}
	c := claims{U: u.ID, A: []int{0}, N: []string{"*"}, DT: []string{"*"}}
	if !u.Admin {
		c.A, c.N, c.DT = clientActionIDs(), []string{}, []string{}
	}
	now := s.clock.Now()
	writePair(w, s.mintPair(c, now.Add(AccessTokenMaxAge), now.Add(RefreshTokenMaxAge)))
}

// handleCreate is POST {base}/token/create. Its order is the server's:
// authentication (401), body (400), ManageToken (403), user (404, 403).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return
	}
	caller, err := s.authenticate(bearer)
	if err != nil {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(servletError401))
		return
	}
	req, status, msg := readCreateRequest(r)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	if !allowsAction(caller.A, devicehive.ManageTokenActionID) {
		writeError(w, http.StatusForbidden, msgAccessDenied)
		return
	}
	u, ok := s.user(req.userID)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf(msgUserNotFound, req.userID))
		return
	}
	if !u.Active {
		writeError(w, http.StatusForbidden, msgUserNotActive)
		return
	}
	now := s.clock.Now()
	// The expiration rules: a given expiration is used unchecked, a past one
	// included; the refresh token falls back to it before the max age.
	access, refresh := now.Add(AccessTokenMaxAge), now.Add(RefreshTokenMaxAge)
	if req.expiration != nil {
		access, refresh = *req.expiration, *req.expiration
	}
	if req.refreshExpiration != nil {
		refresh = *req.refreshExpiration
	}
	c := claims{U: u.ID, A: req.actions, N: req.networkIDs, DT: req.deviceTypeIDs}
	writePair(w, s.mintPair(c, access, refresh))
}

// handleRefresh is POST {base}/token/refresh: a new access token with the
// refresh token's rights.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefreshToken string `json:"refreshToken"`
	}
	if json.NewDecoder(r.Body).Decode(&req) != nil || req.RefreshToken == "" {
		writeError(w, http.StatusBadRequest, msgInvalidParams)
		return
	}
	c, err := s.parse(req.RefreshToken)
	switch {
	case isInternal(err):
		writeError(w, http.StatusInternalServerError, msgInternal)
		return
	case err != nil:
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if u, ok := s.user(c.U); !ok || !u.Active {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if c.T != 0 {
		writeError(w, http.StatusUnauthorized, msgInvalidTokenType)
		return
	}
	now := s.clock.Now()
	if c.E < expiry(now) {
		writeError(w, http.StatusUnauthorized, msgExpiredToken)
		return
	}
	c.T, c.E = 1, expiry(now.Add(AccessTokenMaxAge))
	writeJSON(w, http.StatusCreated, map[string]string{"accessToken": s.mint(c)})
}

// mintPair signs an access (t: 1) and a refresh (t: 0) token with the same rights.
func (s *Server) mintPair(c claims, access, refresh time.Time) [2]string {
	c.T, c.E = 1, expiry(access)
	a := s.mint(c)
	c.T, c.E = 0, expiry(refresh)
	return [2]string{a, s.mint(c)}
}

// clientActionIDs is what a non-admin login gets: every non-admin action.
func clientActionIDs() []int {
	var ids []int
	for _, name := range devicehive.ActionNames() {
		if !devicehive.IsAdminAction(name) {
			id, _ := devicehive.ActionID(name)
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func writePair(w http.ResponseWriter, pair [2]string) {
	writeJSON(w, http.StatusCreated, map[string]string{"accessToken": pair[0], "refreshToken": pair[1]})
}

// writeError writes the server's error body: {"error": code, "message": …}.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"error": status, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
