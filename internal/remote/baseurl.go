package remote

import (
	"net/url"
	"strings"
)

// ParseBaseURL accepts an absolute http or https URL with a host and without
// credentials, query or fragment; a path prefix is kept, its trailing slashes
// trimmed, so that callers append "/api/..." or "/token" to it. Surrounding
// white space is ignored. A refusal is a *FieldError on FieldURL.
func ParseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, urlError("is required")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		// The parse error quotes the URL, which may hold a password.
		return nil, urlError("not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, urlError("scheme must be http or https")
	case u.Hostname() == "":
		return nil, urlError("host is missing")
	case u.User != nil:
		return nil, urlError("must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		// A bare "?" counts too: it would sit between the base and the path
		// a caller appends.
		return nil, urlError("must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

func urlError(reason string) error { return &FieldError{Field: FieldURL, Reason: reason} }
