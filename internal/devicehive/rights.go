package devicehive

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rights are what a token grants: a user, actions by name, and the networks
// and device types they apply to (numeric id strings, or a lone "*").
type Rights struct {
	UserID        int64
	Actions       []string
	NetworkIDs    []string
	DeviceTypeIDs []string
}

// Validate refuses rights the server would silently widen or mangle: an empty
// action list (the server reads it as every client action, ManageToken
// included), unknown or repeated names (the server drops unknown ones), "*"
// as an action, userId < 1, ids that are neither decimal nor a lone "*", and
// empty network or device-type lists. The error is a *RightsError.
func (r Rights) Validate() error {
	if r.UserID < 1 {
		return &RightsError{Field: "userId", Reason: "must be at least 1"}
	}
	if err := validateActions(r.Actions); err != nil {
		return err
	}
	if err := validateIDs("networkIds", r.NetworkIDs); err != nil {
		return err
	}
	return validateIDs("deviceTypeIds", r.DeviceTypeIDs)
}

// actionIDs maps validated action names to their ids, ascending.
func (r Rights) actionIDs() []int {
	ids := make([]int, 0, len(r.Actions))
	for _, name := range r.Actions {
		id, _ := ActionID(name)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func validateActions(names []string) error {
	if len(names) == 0 {
		return &RightsError{Field: "actions", Reason: "must not be empty: DeviceHive reads an empty list as every client action"}
	}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if name == "*" {
			return &RightsError{Field: "actions", Reason: `"*" (every action) may not be requested`}
		}
		if _, ok := ActionID(name); !ok {
			return &RightsError{Field: "actions", Reason: unknownActionReason(name)}
		}
		if seen[name] {
			return &RightsError{Field: "actions", Reason: fmt.Sprintf("action %q is repeated", name)}
		}
		seen[name] = true
	}
	return nil
}

// unknownActionReason names the intended action when only the case is wrong:
// the server would have accepted it, we insist on the table's spelling.
func unknownActionReason(name string) string {
	for _, known := range ActionNames() {
		if strings.EqualFold(known, name) {
			return fmt.Sprintf("unknown action %q (did you mean %q?)", name, known)
		}
	}
	return fmt.Sprintf("unknown action %q", name)
}

func validateIDs(field string, ids []string) error {
	if len(ids) == 0 {
		return &RightsError{Field: field, Reason: `must not be empty: give ids or ["*"]`}
	}
	if slices.Contains(ids, "*") {
		if len(ids) > 1 {
			return &RightsError{Field: field, Reason: `"*" must stand alone, not beside ids`}
		}
		return nil
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !isDecimal(id) {
			return &RightsError{Field: field, Reason: fmt.Sprintf("id %q is not a decimal number", id)}
		}
		// The server parses ids as Java longs; a larger one makes a dead token.
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return &RightsError{Field: field, Reason: fmt.Sprintf("id %q is out of range", id)}
		}
		if seen[id] {
			return &RightsError{Field: field, Reason: fmt.Sprintf("id %q is repeated", id)}
		}
		seen[id] = true
	}
	return nil
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
