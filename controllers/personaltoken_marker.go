package controllers

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// The description of a minted token ends with a marker unique to the mint attempt,
// "[token-operator <namespace>/<name> <uid> <nonce>]": after a crash, the operator
// finds the token of an interrupted mint by it, and the orphan sweep finds every
// token of this very object by its start (the uid tells it from an object of the
// same name before it, whose retained tokens are not its own, or in another
// cluster). It stays for the token's life, and tells an AWX administrator who
// manages the token.
const markerPrefix = "[token-operator "

// newMarker returns the marker of a new mint attempt.
func newMarker(pt *tokensv1alpha1.PersonalToken) string {
	return markerPrefixOf(pt) + nonce() + "]"
}

// nonce makes a marker unique to one mint attempt.
func nonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// remoteDescription is the description of a token at AWX, which trims white space.
func remoteDescription(description, marker string) string {
	description = strings.TrimSpace(description)
	if description == "" {
		return marker
	}
	return description + " " + marker
}

// markerOf returns the marker at the end of a remote description.
func markerOf(remote string) string {
	if i := strings.LastIndex(remote, markerPrefix); i >= 0 {
		return remote[i:]
	}
	return ""
}
