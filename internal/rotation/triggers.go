package rotation

import (
	"fmt"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// DoesNotExist hits until a first token has been minted.
func DoesNotExist(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.DoesNotExistReason, fmt.Sprintf("no %s has been minted yet", in.Noun)}, !in.Exists
}

// SecretMissing hits when the Secret the spec names is gone, or was renamed.
func SecretMissing(in Input) (Decision, bool) {
	message := fmt.Sprintf("Secret %q that held %s is gone", in.SecretName, in.Subject)
	if in.HeldIn != "" && in.HeldIn != in.SecretName {
		message = fmt.Sprintf("spec.secret.name changed from %q to %q", in.HeldIn, in.SecretName)
	}
	return Decision{tokensv1alpha1.SecretMissingReason, message}, !in.SecretFound
}

// SecretMismatch hits when the Secret no longer holds the current token: edited
// by hand, or a commit was lost.
func SecretMismatch(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.SecretMismatchReason,
		fmt.Sprintf("Secret %q no longer holds %s (changed by hand?)", in.SecretName, in.Subject)}, !in.SecretHolds
}

// IssuerChanged hits when the issuer now mints elsewhere (another URL, or another
// API of the same server) than where the current token was minted.
func IssuerChanged(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.IssuerChangedReason,
			fmt.Sprintf("%s was minted by the %s, but the issuer now mints with the %s", in.Subject, in.MintedAt, in.IssuerAt)},
		in.MintedAt != "" && in.IssuerAt != "" && in.MintedAt != in.IssuerAt
}

// UserChanged hits when the spec names another user than the current token's
// owner.
func UserChanged(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.UserChangedReason,
			fmt.Sprintf("spec.user is %q but %s belongs to %q", in.WantUser, in.Subject, in.HeldUser)},
		in.WantUser != "" && in.WantUser != in.HeldUser
}

// RightsChanged hits when the spec asks for other rights than the current token has.
func RightsChanged(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.RightsChangedReason,
		fmt.Sprintf("spec.%s differs from the rights of %s", in.RightsDiffer, in.Subject)}, in.RightsDiffer != ""
}

// LifetimeChanged hits when the spec asks for other lifetimes than the current
// token was minted with.
func LifetimeChanged(in Input) (Decision, bool) {
	held, want := in.HeldLifetimes, in.WantLifetimes
	return Decision{tokensv1alpha1.LifetimeChangedReason,
		fmt.Sprintf("%s lives %s (refresh %s) but the spec asks for %s (refresh %s)",
			in.Subject, held.Access, held.Refresh, want.Access, want.Refresh)}, held != want
}

// RotateRequested hits when the rotate annotation has a value not handled yet.
func RotateRequested(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.ManuallyTriggeredReason,
			fmt.Sprintf("rotation requested with %s=%q", tokensv1alpha1.RotateAnnotation, in.RotateRequested)},
		in.RotateRequested != "" && in.RotateRequested != in.RotateHandled
}

// Expired hits when the current token has expired: the operator was down, or
// could not mint, through its renewal window.
func Expired(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.ExpiredReason,
			fmt.Sprintf("%s expired at %s", in.Subject, in.ExpiresAt.UTC().Format(time.RFC3339))},
		!in.ExpiresAt.IsZero() && !in.Now.Before(in.ExpiresAt)
}

// RenewalDue hits when the current token reached its renewal time.
func RenewalDue(in Input) (Decision, bool) {
	return Decision{tokensv1alpha1.RenewalDueReason,
			fmt.Sprintf("%s reached its renewal time %s", in.Subject, in.RenewalTime.UTC().Format(time.RFC3339))},
		!in.RenewalTime.IsZero() && !in.Now.Before(in.RenewalTime)
}
