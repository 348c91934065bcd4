package awx

import (
	"fmt"
	"strings"
	"time"
)

// wireUser is a user as /me/ shows it.
type wireUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	IsSuperuser bool   `json:"is_superuser"`
}

// meReply is /me/: a one-item list on AWX and the gateway. A bare user object
// is accepted too.
type meReply struct {
	Results []wireUser `json:"results"`
	wireUser
}

func (r meReply) user() (User, error) {
	w := r.wireUser
	if len(r.Results) > 0 {
		w = r.Results[0]
	}
	if w.ID == 0 {
		return User{}, fmt.Errorf("%w: /me/ named no user", ErrMalformedReply)
	}
	return User{ID: w.ID, Username: w.Username, IsSuperuser: w.IsSuperuser}, nil
}

// wireToken is a token object. The value is decoded straight into a Secret
// so it never sits in a plain string.
type wireToken struct {
	ID          int64   `json:"id"`
	User        *int64  `json:"user"`
	Description string  `json:"description"`
	Scope       string  `json:"scope"`
	Token       Secret  `json:"token"`
	Created     string  `json:"created"`
	Expires     *string `json:"expires"`
}

func (w wireToken) token() (Token, error) {
	t := Token{ID: w.ID, Description: w.Description, Scopes: strings.Fields(w.Scope)}
	if w.User != nil {
		t.UserID = *w.User
	}
	var err error
	if t.Created, err = parseTime(w.Created); err != nil {
		return Token{}, fmt.Errorf("%w: token %d: created: %v", ErrMalformedReply, w.ID, err)
	}
	if w.Expires != nil {
		if t.Expires, err = parseTime(*w.Expires); err != nil {
			return Token{}, fmt.Errorf("%w: token %d: expires: %v", ErrMalformedReply, w.ID, err)
		}
	}
	return t, nil
}

// masked reports a value that AWX or the gateway shows in place of a token.
func masked(s Secret) bool {
	v := s.Reveal()
	return v == "" || v == "$encrypted$" || strings.Trim(v, "*") == ""
}

// listReply is one page of a DRF list.
type listReply struct {
	Count   int         `json:"count"`
	Next    *string     `json:"next"`
	Results []wireToken `json:"results"`
}

// timeLayouts are what Django REST framework writes: RFC 3339 with or without
// microseconds (Python drops a zero fraction), rarely without a zone.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	var firstErr error
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t.UTC(), nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return time.Time{}, firstErr
}

// scopeString joins scopes the way AWX wants them: one space between words.
func scopeString(scopes []string) string { return strings.Join(scopes, " ") }
