package dhtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// createRequest is a /token/create body as the server understands it.
type createRequest struct {
	userID            int64
	actions           []int // nil never: omitted actions become [1] ("none")
	networkIDs        []string
	deviceTypeIDs     []string
	expiration        *time.Time
	refreshExpiration *time.Time
}

// readCreateRequest parses the body, or returns the 400 to answer.
func readCreateRequest(r *http.Request) (createRequest, int, string) {
	var raw struct {
		UserID            *int64             `json:"userId"`
		Actions           *[]json.RawMessage `json:"actions"`
		NetworkIDs        []json.RawMessage  `json:"networkIds"`
		DeviceTypeIDs     []json.RawMessage  `json:"deviceTypeIds"`
		Expiration        json.RawMessage    `json:"expiration"`
		RefreshExpiration json.RawMessage    `json:"refreshExpiration"`
	}
	if json.NewDecoder(r.Body).Decode(&raw) != nil || raw.UserID == nil {
		return createRequest{}, http.StatusBadRequest, msgInvalidParams
	}
	req := createRequest{userID: *raw.UserID, actions: []int{noneActionID}}
	if raw.Actions != nil {
		actions, ok := actionIDs(*raw.Actions)
		if !ok {
			return createRequest{}, http.StatusBadRequest, msgBadActions
		}
		req.actions = actions
	}
	var ok bool
	if req.networkIDs, ok = idStrings(raw.NetworkIDs); !ok {
		return createRequest{}, http.StatusBadRequest, msgInvalidParams
	}
	if req.deviceTypeIDs, ok = idStrings(raw.DeviceTypeIDs); !ok {
		return createRequest{}, http.StatusBadRequest, msgInvalidParams
	}
	if req.expiration, ok = date(raw.Expiration); !ok {
		return createRequest{}, http.StatusBadRequest, msgInvalidParams
	}
	if req.refreshExpiration, ok = date(raw.RefreshExpiration); !ok {
		return createRequest{}, http.StatusBadRequest, msgInvalidParams
	}
	return req, 0, ""
}

// actionIDs converts names (any case, "*" included) and integer ids,
// silently dropping the unknown ones, as the server does. An empty result
// stays empty, the widening trap. ok is false for an element that is neither
// a string nor an integer.
func actionIDs(elems []json.RawMessage) ([]int, bool) {
	ids := []int{}
	for _, e := range elems {
		var name string
		var id int64
		switch {
		case json.Unmarshal(e, &name) == nil:
			if known, found := actionByName(name); found {
				ids = append(ids, known)
			}
		case isInteger(e) && json.Unmarshal(e, &id) == nil:
			if id >= 0 && id <= devicehive.MaxActionID {
				ids = append(ids, int(id))
			}
		default:
			return nil, false
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), true
}

func actionByName(name string) (int, bool) {
	if name == "*" {
		return 0, true
	}
	for _, known := range devicehive.ActionNames() {
		if strings.EqualFold(known, name) {
			return devicehive.ActionID(known)
		}
	}
	return 0, false
}

// idStrings reads networkIds / deviceTypeIds: strings, or numbers coerced to
// their text; nil when absent.
func idStrings(elems []json.RawMessage) ([]string, bool) {
	if elems == nil {
		return nil, true
	}
	ids := []string{}
	for _, e := range elems {
		var s string
		switch {
		case json.Unmarshal(e, &s) == nil:
			ids = append(ids, s)
		case isInteger(e):
			ids = append(ids, string(e))
		default:
			return nil, false
		}
	}
	return ids, true
}

// date reads yyyy-MM-dd'T'HH:mm:ss.SSS (UTC, a trailing Z accepted) or epoch
// milliseconds; nil when absent.
func date(raw json.RawMessage) (*time.Time, bool) {
	if isJSONNull(raw) {
		return nil, true
	}
	if isInteger(raw) {
		ms, err := strconv.ParseInt(string(raw), 10, 64)
		t := time.UnixMilli(ms).UTC()
		return &t, err == nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	t, err := time.Parse("2006-01-02T15:04:05.000", strings.TrimSuffix(s, "Z"))
	return &t, err == nil
}

func isInteger(raw json.RawMessage) bool {
	raw = bytes.TrimPrefix(raw, []byte("-"))
	if len(raw) == 0 {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
