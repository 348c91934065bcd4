package awx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// ErrAPINotServed is a server that does not serve the token API asked for, or
// no AWX token API at all.
var ErrAPINotServed = errors.New("the server does not serve this AWX API")

// Probe checks that the server serves the token API the client is configured
// with and returns it; for Auto it detects the API first. It needs no
// credentials: an AWX API answers 401 to a request without them, where a server
// without that API answers 404 (wrapped in ErrAPINotServed).
func (c *Client) Probe(ctx context.Context) (API, error) {
	api, err := c.API(ctx)
	if err != nil {
		return "", err
	}
	paths := []string{controllerPrefix, gatewayControllerPrefix}
	if api == APIGateway {
		paths = []string{gatewayPrefix}
	}
	for _, prefix := range paths {
		err := c.call(ctx, "probe", http.MethodGet, prefix+"me/", nil, nil, nil)
		switch status := statusOf(err); {
		case err == nil, status == http.StatusUnauthorized, status == http.StatusForbidden:
			return api, nil
		case status != http.StatusNotFound:
			return "", err
		}
	}
	if api == APIGateway {
		return "", fmt.Errorf("%w: no AAP gateway API at %s%s", ErrAPINotServed, c.base.Path, gatewayPrefix)
	}
	return "", fmt.Errorf("%w: no AWX controller API at %s%s or %s%s", ErrAPINotServed,
		c.base.Path, controllerPrefix, c.base.Path, gatewayControllerPrefix)
}
