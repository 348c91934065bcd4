package awx

import (
	"context"
	"net/http"
)

const (
	controllerPrefix        = "/api/v2/"
	gatewayControllerPrefix = "/api/controller/v2/"
	gatewayPrefix           = "/api/gateway/v1/"
)

// API returns the flavour in use. For Auto it asks GET /api/gateway/v1/me/
// once: 404 means no gateway (Controller); 2xx, 401 or 403 mean a gateway
// answered (Gateway). Any other outcome is returned as the error and the next
// call asks again.
func (c *Client) API(ctx context.Context) (API, error) {
	if api := c.cachedAPI(); api != "" {
		return api, nil
	}
	if err := c.lockDiscovery(ctx); err != nil {
		return "", err
	}
	defer c.unlockDiscovery()
	if api := c.cachedAPI(); api != "" {
		return api, nil
	}
	var reply meReply
	err := c.call(ctx, "detect_api", http.MethodGet, gatewayPrefix+"me/", nil, nil, &reply)
	var api API
	switch status := statusOf(err); {
	case err == nil:
		api = APIGateway
		if u, uerr := reply.user(); uerr == nil {
			c.remember(func() { c.me = &u })
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		api = APIGateway
	case status == http.StatusNotFound:
		api = APIController
	default:
		return "", err
	}
	c.remember(func() { c.api = api })
	return api, nil
}

// apiPrefix returns the path below which the token calls live, detecting the
// flavour and, on the controller API, which of /api/v2/ and
// /api/controller/v2/ answers.
func (c *Client) apiPrefix(ctx context.Context) (string, error) {
	api, err := c.API(ctx)
	if err != nil {
		return "", err
	}
	if api == APIGateway {
		return gatewayPrefix, nil
	}
	if p := c.cachedPrefix(); p != "" {
		return p, nil
	}
	if err := c.lockDiscovery(ctx); err != nil {
		return "", err
	}
	defer c.unlockDiscovery()
	if p := c.cachedPrefix(); p != "" {
		return p, nil
	}
	// /me/ finds the prefix and the user at once; the user is needed to
	// create a token anyway.
	prefix := controllerPrefix
	u, err := c.fetchMe(ctx, prefix)
	if IsNotFound(err) {
		prefix = gatewayControllerPrefix
		u, err = c.fetchMe(ctx, prefix)
	}
	if err != nil {
		return "", err
	}
	c.remember(func() { c.prefix, c.me = prefix, &u })
	return prefix, nil
}

func (c *Client) lockDiscovery(ctx context.Context) error {
	select {
	case c.discovery <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &RequestError{Method: http.MethodGet, Path: c.base.Path + "/api/", Err: ctx.Err(), neverSent: true}
	}
}

func (c *Client) unlockDiscovery() { <-c.discovery }

// Learnt is what a client has found out by asking: the API in use, where on
// the controller API the token calls live, and the user behind the credentials.
type Learnt struct {
	api    API
	prefix string
	me     *User
}

// User is the user behind the credentials, when it was learnt along with where
// to call: a client that starts from it asks nothing before its first call.
func (l Learnt) User() (User, bool) {
	if l.me == nil || l.api == "" || (l.api == APIController && l.prefix == "") {
		return User{}, false
	}
	return *l.me, true
}

// Learnt returns what the client has found out so far.
func (c *Client) Learnt() Learnt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Learnt{api: c.api, prefix: c.prefix, me: c.me}
}

// StartFrom has a new client know what another one with the same settings and
// credentials learnt, instead of asking the server again. What was learnt
// through another API than this client's is ignored.
func (c *Client) StartFrom(l Learnt) {
	c.remember(func() {
		if c.api == "" || c.api == l.api {
			c.api, c.prefix, c.me = l.api, l.prefix, l.me
		}
	})
}

func (c *Client) remember(set func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set()
}

func (c *Client) cachedAPI() API {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api
}

func (c *Client) cachedPrefix() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.prefix
}

func (c *Client) cachedMe() *User {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.me
}
