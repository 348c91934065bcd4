package devicehive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/tokenoperator/token-operator/internal/metrics"
	"github.com/tokenoperator/token-operator/internal/remote"
)

// Paths below the base URL.
const (
	pathLogin   = "/token"
	pathCreate  = "/token/create"
	pathRefresh = "/token/refresh"
)

// dateLayout is the server's yyyy-MM-dd'T'HH:mm:ss.SSS, read as UTC.
const dateLayout = "2006-01-02T15:04:05.000"

// maxBodyBytes bounds what we read of any answer.
const maxBodyBytes = 1 << 20

// ErrRightsMismatch means the server granted other rights than asked: the
// pair is not returned, so it never reaches a Secret.
var ErrRightsMismatch = errors.New("server granted other rights than requested")

// tokenResponse is the body of a 201 from every token call.
type tokenResponse struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
}

// Login trades a login and password for the user's own token pair (an admin
// gets every action, a client user every client action).
func (c *Client) Login(ctx context.Context, login string, password Secret) (TokenPair, error) {
	if login == "" || password == "" {
		return TokenPair{}, fmt.Errorf("devicehive: POST %s: login and password are required", pathLogin)
	}
	body := map[string]string{"login": login, "password": password.Reveal()}
	var resp tokenResponse
	if err := c.post(ctx, "login", pathLogin, "", body, &resp, password); err != nil {
		return TokenPair{}, err
	}
	pair, _, err := readPair(pathLogin, resp)
	return pair, err
}

// Refresh trades a refresh token for a new access token, which the server
// gives the refresh token's rights and 30 minutes of life.
func (c *Client) Refresh(ctx context.Context, refreshToken Secret) (Secret, time.Time, error) {
	if refreshToken == "" {
		return "", time.Time{}, fmt.Errorf("devicehive: POST %s: refresh token is required", pathRefresh)
	}
	body := map[string]string{"refreshToken": refreshToken.Reveal()}
	var resp tokenResponse
	if err := c.post(ctx, "refresh", pathRefresh, "", body, &resp, refreshToken); err != nil {
		return "", time.Time{}, err
	}
	access, err := readToken(pathRefresh, "accessToken", resp.AccessToken, AccessTokenType)
	if err != nil {
		return "", time.Time{}, err
	}
	return Secret(resp.AccessToken), access.ExpiresAt, nil
}

// createRequest is the body of /token/create; actions go by name.
type createRequest struct {
	UserID            int64    `json:"userId"`
	Actions           []string `json:"actions"`
	NetworkIDs        []string `json:"networkIds"`
	DeviceTypeIDs     []string `json:"deviceTypeIds"`
	Expiration        string   `json:"expiration"`
	RefreshExpiration string   `json:"refreshExpiration"`
}

// Create asks the server to mint a pair with rights r, authorised by bearer
// (an access token holding ManageToken). Rights are validated before any
// call, both expiries are always sent (an omitted one would default), and the
// returned tokens must carry exactly the requested rights.
func (c *Client) Create(ctx context.Context, bearer Secret, r Rights, accessExpiresAt, refreshExpiresAt time.Time) (TokenPair, error) {
	if err := r.Validate(); err != nil {
		return TokenPair{}, err
	}
	if accessExpiresAt.IsZero() || refreshExpiresAt.IsZero() {
		return TokenPair{}, fmt.Errorf("devicehive: POST %s: expiry times must be set", pathCreate)
	}
	if bearer == "" {
		return TokenPair{}, fmt.Errorf("devicehive: POST %s: bearer token is required", pathCreate)
	}
	body := createRequest{
		UserID:            r.UserID,
		Actions:           r.Actions,
		NetworkIDs:        r.NetworkIDs,
		DeviceTypeIDs:     r.DeviceTypeIDs,
		Expiration:        accessExpiresAt.UTC().Format(dateLayout),
		RefreshExpiration: refreshExpiresAt.UTC().Format(dateLayout),
	}
	var resp tokenResponse
	if err := c.post(ctx, "create_token", pathCreate, bearer, body, &resp, bearer); err != nil {
		return TokenPair{}, err
	}
	pair, granted, err := readPair(pathCreate, resp)
	if err != nil {
		return TokenPair{}, err
	}
	// The refresh token matters as much: every access token it buys inherits its rights.
	for _, g := range granted {
		if field := r.Mismatch(g); field != "" {
			return TokenPair{}, fmt.Errorf("devicehive: POST %s: %w (%s)", pathCreate, ErrRightsMismatch, field)
		}
	}
	return pair, nil
}

// readPair decodes both tokens of a pair, checks their types, and returns
// their claims, access first.
func readPair(path string, resp tokenResponse) (TokenPair, [2]Claims, error) {
	access, err := readToken(path, "accessToken", resp.AccessToken, AccessTokenType)
	if err != nil {
		return TokenPair{}, [2]Claims{}, err
	}
	refresh, err := readToken(path, "refreshToken", resp.RefreshToken, RefreshTokenType)
	if err != nil {
		return TokenPair{}, [2]Claims{}, err
	}
	return TokenPair{
		AccessToken:      Secret(resp.AccessToken),
		RefreshToken:     Secret(resp.RefreshToken),
		AccessExpiresAt:  access.ExpiresAt,
		RefreshExpiresAt: refresh.ExpiresAt,
	}, [2]Claims{access, refresh}, nil
}

func readToken(path, field, token string, wantType int) (Claims, error) {
	if token == "" {
		return Claims{}, fmt.Errorf("devicehive: POST %s: response has no %s", path, field)
	}
	claims, err := DecodeUnverified(token)
	if err != nil {
		return Claims{}, fmt.Errorf("devicehive: POST %s: %s: %w", path, field, err)
	}
	if (claims.Type == RefreshTokenType) != (wantType == RefreshTokenType) {
		return Claims{}, fmt.Errorf("devicehive: POST %s: %s: %w: wrong token type %d", path, field, ErrInvalidToken, claims.Type)
	}
	return claims, nil
}

// Mismatch names the first field of r (userId, actions, networkIds,
// deviceTypeIds) that granted does not carry exactly, or returns "".
func (r Rights) Mismatch(granted Claims) string {
	switch {
	case granted.UserID != r.UserID:
		return "userId"
	case !sets.New(granted.ActionIDs...).Equal(sets.New(r.actionIDs()...)):
		return "actions"
	case !sets.New(granted.NetworkIDs...).Equal(sets.New(r.NetworkIDs...)):
		return "networkIds"
	case !sets.New(granted.DeviceTypeIDs...).Equal(sets.New(r.DeviceTypeIDs...)):
		return "deviceTypeIds"
	}
	return ""
}

// post sends one JSON call and decodes a 2xx answer into out. sent lists the
// secrets in the request, scrubbed from any error text. op names the request in
// the operator's metrics.
func (c *Client) post(ctx context.Context, op, path string, bearer Secret, in, out any, sent ...Secret) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("devicehive: POST %s: encode request: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("devicehive: POST %s: build request: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer.Reveal())
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		metrics.RemoteRequest(metrics.SystemDeviceHive, op, 0, time.Since(start))
		// url.Error repeats the whole URL; the path is enough.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("devicehive: POST %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	metrics.RemoteRequest(metrics.SystemDeviceHive, op, resp.StatusCode, time.Since(start))
	if err != nil {
		return fmt.Errorf("devicehive: POST %s: read response: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(resp.StatusCode, path, body, sent...)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			apiErr.RetryAfter = remote.RetryAfter(resp.Header, time.Now())
		}
		return apiErr
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("devicehive: POST %s: response is not the expected JSON", path)
	}
	return nil
}
