package awx

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// listPageSize is AWX's largest page.
const listPageSize = 200

// maxListPages stops a list whose next links never end (200 tokens a page).
// With maxReplyBytes it bounds what one listing reads (200 MiB) and takes
// (10,000 tokens): filtered by user and marker, a real listing is one page.
const maxListPages = 50

// User is the AWX user behind the credentials.
type User struct {
	ID          int64
	Username    string
	IsSuperuser bool
}

// CreateRequest is a new personal token. Scopes are joined with one space;
// when empty, the field is left out and AWX uses "write".
type CreateRequest struct {
	Description string
	Scopes      []string
}

// Update changes a token in place; nil fields are left unchanged.
type Update struct {
	Description *string
	Scopes      []string
}

// Token is a token as AWX shows it after creation: without its value.
type Token struct {
	ID          int64
	UserID      int64
	Description string
	Scopes      []string
	Created     time.Time
	Expires     time.Time
}

// CreatedToken is a token with the value that AWX shows once, in the create
// reply only.
type CreatedToken struct {
	Token
	Value Secret
}

// ListOptions filter a token list; zero values are not sent.
type ListOptions struct {
	// UserID keeps one user's tokens. A superuser or system auditor sees
	// every user's tokens otherwise: always set it before deleting by marker.
	UserID int64
	// Description matches exactly.
	Description string
	// DescriptionContains matches a substring, case-sensitively.
	DescriptionContains string
	// OrderBy is e.g. "-created" or "id".
	OrderBy string
	// Keep, when set, keeps only the tokens it accepts, as each page arrives: a
	// server that ignores the filters cannot fill the caller's memory.
	Keep func(Token) bool
}

// Me returns the user behind the credentials. It asks once per Client.
func (c *Client) Me(ctx context.Context) (User, error) {
	if u := c.cachedMe(); u != nil {
		return *u, nil
	}
	prefix, err := c.apiPrefix(ctx)
	if err != nil {
		return User{}, err
	}
	if u := c.cachedMe(); u != nil {
		return *u, nil
	}
	u, err := c.fetchMe(ctx, prefix)
	if err != nil {
		return User{}, err
	}
	c.remember(func() { c.me = &u })
	return u, nil
}

func (c *Client) fetchMe(ctx context.Context, prefix string) (User, error) {
	path := prefix + "me/"
	var reply meReply
	if err := c.call(ctx, "me", http.MethodGet, path, nil, nil, &reply); err != nil {
		return User{}, err
	}
	u, err := reply.user()
	if err != nil {
		return User{}, &RequestError{Method: http.MethodGet, Path: c.base.Path + path, Err: err}
	}
	return u, nil
}

// CreateToken mints a personal token for the user behind the credentials
// (AWX makes tokens for the caller only). On the controller API it posts to
// users/{me}/personal_tokens/, on the gateway to tokens/. If AWX answered 201
// but the reply is unusable, the error comes with the token's ID so that the
// caller can delete it.
func (c *Client) CreateToken(ctx context.Context, req CreateRequest) (CreatedToken, error) {
	if len(req.Scopes) == 0 {
		// AWX reads a missing scope as write: more than nothing.
		return CreatedToken{}, fmt.Errorf("awx: %w: a token needs at least one scope", ErrInvalidRequest)
	}
	prefix, err := c.apiPrefix(ctx)
	if err != nil {
		return CreatedToken{}, err
	}
	path := prefix + "tokens/"
	if prefix != gatewayPrefix {
		me, err := c.Me(ctx)
		if err != nil {
			return CreatedToken{}, err
		}
		path = prefix + "users/" + strconv.FormatInt(me.ID, 10) + "/personal_tokens/"
	}
	body := map[string]any{"description": req.Description}
	if len(req.Scopes) > 0 {
		body["scope"] = scopeString(req.Scopes)
	}
	var w wireToken
	if err := c.call(ctx, "create_token", http.MethodPost, path, nil, body, &w); err != nil {
		return CreatedToken{}, err
	}
	fail := func(err error) (CreatedToken, error) {
		return CreatedToken{Token: Token{ID: w.ID}}, &RequestError{Method: http.MethodPost, Path: c.base.Path + path, Err: err}
	}
	tok, err := w.token()
	if err != nil {
		return fail(err)
	}
	if masked(w.Token) {
		return fail(ErrNoTokenValue)
	}
	return CreatedToken{Token: tok, Value: w.Token}, nil
}

// GetToken reads one token; its value is never shown again.
func (c *Client) GetToken(ctx context.Context, id int64) (Token, error) {
	return c.tokenCall(ctx, "get_token", http.MethodGet, id, nil)
}

// UpdateToken PATCHes the description and/or scopes of a token in place.
func (c *Client) UpdateToken(ctx context.Context, id int64, upd Update) (Token, error) {
	body := map[string]any{}
	if upd.Description != nil {
		body["description"] = *upd.Description
	}
	if upd.Scopes != nil {
		body["scope"] = scopeString(upd.Scopes)
	}
	return c.tokenCall(ctx, "update_token", http.MethodPatch, id, body)
}

// DeleteToken revokes a token. A 404 (already gone, or not the caller's)
// gives an error for which IsNotFound is true; the caller decides.
func (c *Client) DeleteToken(ctx context.Context, id int64) error {
	prefix, err := c.apiPrefix(ctx)
	if err != nil {
		return err
	}
	return c.call(ctx, "delete_token", http.MethodDelete, tokenPath(prefix, id), nil, nil, nil)
}

func (c *Client) tokenCall(ctx context.Context, op, method string, id int64, body map[string]any) (Token, error) {
	prefix, err := c.apiPrefix(ctx)
	if err != nil {
		return Token{}, err
	}
	path := tokenPath(prefix, id)
	var w wireToken
	var in any
	if body != nil {
		in = body
	}
	if err := c.call(ctx, op, method, path, nil, in, &w); err != nil {
		return Token{}, err
	}
	tok, err := w.token()
	if err != nil {
		return Token{}, &RequestError{Method: method, Path: c.base.Path + path, Err: err}
	}
	return tok, nil
}

func tokenPath(prefix string, id int64) string {
	return prefix + "tokens/" + strconv.FormatInt(id, 10) + "/"
}

// ListTokens lists personal tokens (application__isnull=true), following
// next links across all pages of 200.
func (c *Client) ListTokens(ctx context.Context, opts ListOptions) ([]Token, error) {
	prefix, err := c.apiPrefix(ctx)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("page_size", strconv.Itoa(listPageSize))
	q.Set("application__isnull", "true")
	if opts.UserID != 0 {
		q.Set("user", strconv.FormatInt(opts.UserID, 10))
	}
	if opts.Description != "" {
		q.Set("description", opts.Description)
	}
	if opts.DescriptionContains != "" {
		q.Set("description__contains", opts.DescriptionContains)
	}
	if opts.OrderBy != "" {
		q.Set("order_by", opts.OrderBy)
	}
	path := prefix + "tokens/"
	var out []Token
	for page := 0; ; page++ {
		if page == maxListPages {
			return nil, &RequestError{Method: http.MethodGet, Path: c.base.Path + path,
				Err: fmt.Errorf("%w: more than %d pages", ErrMalformedReply, maxListPages)}
		}
		var reply listReply
		if err := c.call(ctx, "list_tokens", http.MethodGet, path, q, nil, &reply); err != nil {
			return nil, err
		}
		for _, w := range reply.Results {
			tok, err := w.token()
			if err != nil {
				return nil, &RequestError{Method: http.MethodGet, Path: c.base.Path + path, Err: err}
			}
			if opts.Keep == nil || opts.Keep(tok) {
				out = append(out, tok)
			}
		}
		if reply.Next == nil || *reply.Next == "" {
			return out, nil
		}
		next, nextQuery, err := c.resolveNext(*reply.Next)
		if err != nil {
			return nil, &RequestError{Method: http.MethodGet, Path: c.base.Path + path, Err: err}
		}
		path, q = next, nextQuery
	}
}
