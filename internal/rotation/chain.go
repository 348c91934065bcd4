// Package rotation decides whether a token must be replaced by a new one, and
// why. The decision is a chain of named triggers, in the manner of
// cert-manager's certificate policy chains: each trigger looks at one Input,
// gathered once per reconcile from the token, its Secret and the clock; the
// first that hits wins, and its reason is what the Issuing condition and the
// Issued or Rotated event carry.
package rotation

import "time"

// Input is everything the triggers look at. Each token kind gathers it from its
// object and Secret; a field a kind does not have stays zero, and the triggers
// that read it never hit for that kind.
type Input struct {
	// Now is the time of the decision.
	Now time.Time
	// Noun is what the kind calls one of its tokens in messages: "token", "pair".
	Noun string
	// Subject names the current token in messages: "token 42", "pair 3".
	Subject string
	// Exists is true once a token has been minted and recorded in status.
	Exists bool

	// SecretName is the Secret the spec names; HeldIn the one status says holds
	// the current token (they differ after spec.secret.name changed).
	SecretName, HeldIn string
	// SecretFound tells whether the Secret the spec names exists.
	SecretFound bool
	// SecretHolds tells whether that Secret holds the current token, unchanged.
	SecretHolds bool

	// RotateRequested is the value of the rotate annotation; RotateHandled the
	// value that last forced a rotation.
	RotateRequested, RotateHandled string

	// ExpiresAt is when the current token expires; zero means never.
	ExpiresAt time.Time
	// RenewalTime is when the current token is due for renewal; zero means never.
	RenewalTime time.Time

	// WantUser is the user the spec names (empty: any); HeldUser the owner of the
	// current token. PersonalToken only.
	WantUser, HeldUser string

	// MintedAt says where (and for an Offline DeviceHive pair, with which key)
	// the current token was minted, IssuerAt how the issuer mints now; empty when
	// unknown.
	MintedAt, IssuerAt string

	// RightsDiffer names the spec field whose rights differ from those of the
	// token the Secret holds; empty when they match. DeviceAccessToken only.
	RightsDiffer string
	// HeldLifetimes are those of the current token, WantLifetimes those the spec
	// asks for. DeviceAccessToken only.
	HeldLifetimes, WantLifetimes Lifetimes
}

// Lifetimes are how long a token pair's access and refresh tokens live.
type Lifetimes struct {
	Access, Refresh time.Duration
}

// Decision is why a new token is minted: a machine reason and a message for people.
type Decision struct {
	Reason  string
	Message string
}

// Trigger looks at the input and says whether it calls for a new token, and why.
type Trigger func(Input) (Decision, bool)

// Chain is an ordered list of triggers.
type Chain []Trigger

// Evaluate runs the triggers in order and returns the first hit; false means the
// current token stays.
func (c Chain) Evaluate(in Input) (Decision, bool) {
	for _, trigger := range c {
		if d, hit := trigger(in); hit {
			return d, true
		}
	}
	return Decision{}, false
}

// PersonalToken is the chain of an AWX personal access token.
var PersonalToken = Chain{DoesNotExist, SecretMissing, SecretMismatch, IssuerChanged, UserChanged, RotateRequested, Expired, RenewalDue}

// DeviceAccessToken is the chain of a DeviceHive token pair. A change of rights
// or lifetimes replaces the pair at once: DeviceHive cannot change a pair.
var DeviceAccessToken = Chain{DoesNotExist, SecretMissing, SecretMismatch, IssuerChanged, RightsChanged, LifetimeChanged, RotateRequested, Expired, RenewalDue}
