package dhtest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// Check says whether accessToken may perform action (a name of the table) on
// network networkID for device type deviceTypeID (numeric strings): nil, or
// an error saying why not. It validates as the server does, statelessly:
// signature, t present and not 0, e present and not past, user present and
// active; then the rights: the action is in "a", or "a" holds 0 ("*"), or
// "a" is EMPTY (every client action); the network is in "n" or "n" holds
// "*"; the device type likewise in "dt".
func (s *Server) Check(accessToken, action, networkID, deviceTypeID string) error {
	c, err := s.authenticate(accessToken)
	if err != nil {
		return err
	}
	id, ok := devicehive.ActionID(action)
	if !ok {
		return fmt.Errorf("dhtest: check: unknown action %q", action)
	}
	if !allowsAction(c.A, id) {
		return fmt.Errorf("dhtest: check: action %s not granted", action)
	}
	if !allowsID(c.N, networkID) {
		return fmt.Errorf("dhtest: check: network %s not granted", networkID)
	}
	if !allowsID(c.DT, deviceTypeID) {
		return fmt.Errorf("dhtest: check: device type %s not granted", deviceTypeID)
	}
	return nil
}

// authenticate is the server's JWT authentication provider: any failure is
// a 401 for the call.
func (s *Server) authenticate(token string) (claims, error) {
	c, err := s.parse(token)
	if err != nil {
		return claims{}, err
	}
	if c.T == 0 {
		return claims{}, errors.New("dhtest: token refused: a refresh token cannot authorise calls")
	}
	if c.E < expiry(s.clock.Now()) {
		return claims{}, errors.New("dhtest: token refused: token has expired")
	}
	if u, ok := s.user(c.U); !ok || !u.Active {
		return claims{}, fmt.Errorf("dhtest: token refused: user %d is missing or not active", c.U)
	}
	// The server maps every id to its action and every network and device
	// type to a long up front: one bad entry fails the whole token.
	for _, id := range c.A {
		if id < 0 || id > devicehive.MaxActionID {
			return claims{}, fmt.Errorf("dhtest: token refused: unknown action id %d", id)
		}
	}
	for _, ids := range [][]string{c.N, c.DT} {
		if slices.Contains(ids, "*") {
			continue
		}
		for _, id := range ids {
			if _, err := strconv.ParseInt(id, 10, 64); err != nil {
				return claims{}, fmt.Errorf("dhtest: token refused: id %q is not a number", id)
			}
		}
	}
	return c, nil
}

// allowsAction applies the server's reading of "a": absent grants nothing,
// 0 grants every action, EMPTY grants every client action.
func allowsAction(a []int, id int) bool {
	switch {
	case a == nil:
		return false
	case slices.Contains(a, 0):
		return true
	case len(a) == 0:
		name, _ := devicehive.ActionName(id)
		return !devicehive.IsAdminAction(name)
	}
	return slices.Contains(a, id)
}

// allowsID reads "n" or "dt": absent grants nothing, "*" everything, else
// the ids compare as numbers, as the server's longs do.
func allowsID(ids []string, id string) bool {
	if slices.Contains(ids, "*") {
		return true
	}
	want, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return false
	}
	for _, have := range ids {
		if n, _ := strconv.ParseInt(have, 10, 64); n == want {
			return true
		}
	}
	return false
}
