package devicehive

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strconv"
	"sync"
)

// The tokens are assembled by hand rather than through a JWT library: at
// thousands of tokens, its map header, reflection-driven JSON and a fresh HMAC
// per token cost three times the signature itself. The bytes are those the
// library writes for the server's claims, in the server's field order (a, e, t,
// u, n, dt), under the server's header {"alg":"HS256"}: a test holds them to it.

// headerSegment is the encoded header the server writes: {"alg":"HS256"}.
var headerSegment = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`))

// macPool keeps keyed HMACs: Reset brings one back to its keyed state without
// hashing the key again.
type macPool struct{ pool sync.Pool }

func newMACPool(key []byte) *macPool {
	return &macPool{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// signToken returns header.payload.signature for a payload of claims body.
func (p *macPool) signToken(body []byte) string {
	n := len(headerSegment) + 1 + base64.RawURLEncoding.EncodedLen(len(body))
	buf := make([]byte, 0, n+1+base64.RawURLEncoding.EncodedLen(sha256.Size))
	buf = append(buf, headerSegment...)
	buf = append(buf, '.')
	buf = base64.RawURLEncoding.AppendEncode(buf, body)

	mac := p.pool.Get().(hash.Hash)
	mac.Reset()
	mac.Write(buf)
	var sum [sha256.Size]byte
	signature := mac.Sum(sum[:0])
	p.pool.Put(mac)

	buf = append(buf, '.')
	return string(base64.RawURLEncoding.AppendEncode(buf, signature))
}

// appendClaims appends the claims' JSON, field by field in the server's order:
// {"payload":{"a":…,"e":…,"t":…,"u":…,"n":…,"dt":…}}.
func appendClaims(b []byte, actions []int, expires int64, typ int, user int64, networks, deviceTypes []string) []byte {
	b = append(b, `{"payload":{"a":`...)
	if actions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, a := range actions {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(a), 10)
		}
		b = append(b, ']')
	}
	b = append(b, `,"e":`...)
	b = strconv.AppendInt(b, expires, 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, int64(typ), 10)
	b = append(b, `,"u":`...)
	b = strconv.AppendInt(b, user, 10)
	b = append(b, `,"n":`...)
	b = appendStrings(b, networks)
	b = append(b, `,"dt":`...)
	b = appendStrings(b, deviceTypes)
	return append(b, "}}"...)
}

// appendStrings appends a JSON array of strings as json.Marshal writes it.
func appendStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString quotes s as json.Marshal does; ids are digits or "*", so the
// general encoder is only for what needs escaping.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s)
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
