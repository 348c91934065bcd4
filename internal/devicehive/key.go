package devicehive

// padding is the value the server's decoder gives '=': it takes part in a
// group of four like any other character.
const padding = 127

// DeriveKey turns a DeviceHive JWT secret into the HMAC key the server signs
// with. The server hands the secret to jjwt as Base64, which decodes it with
// JAXB's lenient parseBase64Binary: characters outside the alphabet are
// skipped, '=' counts as padding inside a group of four, and a trailing
// incomplete group is dropped. So "devicehive" gives the key of "devicehi"
// (75ebe271e862) and "secret" the key of "secr" (b1e72b). A secret that
// yields no key, or that makes the server's decoder fail, is refused with a
// *ConfigError.
func DeriveKey(secret string) ([]byte, error) {
	for _, r := range secret {
		if r > 127 {
			// JAXB indexes a 128-entry table by character: the server fails.
			return nil, &ConfigError{Field: "secret", Reason: "holds a non-ASCII character, which DeviceHive cannot decode"}
		}
	}
	capacity := guessLength(secret)
	if capacity < 0 {
		return nil, &ConfigError{Field: "secret", Reason: "DeviceHive cannot decode this secret (too much '=' padding)"}
	}
	key := make([]byte, 0, capacity)
	var quad [4]int
	q := 0
	for i := 0; i < len(secret); i++ {
		v := base64Value(secret[i])
		if v < 0 {
			continue
		}
		quad[q] = v
		if q++; q < 4 {
			continue
		}
		key = append(key, byte(quad[0]<<2|quad[1]>>4))
		if quad[2] != padding {
			key = append(key, byte(quad[1]<<4|quad[2]>>2))
		}
		if quad[3] != padding {
			key = append(key, byte(quad[2]<<6|quad[3]))
		}
		q = 0
	}
	// The server sizes its buffer with guessLength and fails past it.
	if len(key) > capacity {
		return nil, &ConfigError{Field: "secret", Reason: "DeviceHive cannot decode this secret ('=' padding in the middle)"}
	}
	if len(key) == 0 {
		return nil, &ConfigError{Field: "secret", Reason: "decodes to an empty signing key: it needs at least four Base64 characters"}
	}
	return key, nil
}

// base64Value is JAXB's decode map: -1 for characters it skips.
func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+':
		return 62
	case c == '/':
		return 63
	case c == '=':
		return padding
	}
	return -1
}

// guessLength mirrors JAXB's buffer estimate for an ASCII text: length/4*3, less
// the trailing '=' (unless there are more than two, or the text ends in a
// character outside the alphabet).
func guessLength(text string) int {
	upper := len(text) / 4 * 3
	pads := 0
	for i := len(text) - 1; i >= 0; i-- {
		if text[i] == '=' {
			pads++
			continue
		}
		if base64Value(text[i]) < 0 {
			return upper
		}
		break
	}
	if pads > 2 {
		return upper
	}
	return upper - pads
}
