// Package reconcile holds what every reconciler of the operator shares: typed
// errors that say how a failure is retried, condition helpers, a status patcher
// that writes only what changed, and the summary that computes Ready.
package reconcile

import (
	"errors"
	"time"
)

// Stalling is a failure only the user can fix (the spec, or something it names):
// Stalled=True, a Warning event, and no retry until the object or a watched
// dependency changes, or RetryAfter (when set) has passed: a fix the watches may
// not see (a Secret re-created without the operator's label) is found then.
type Stalling struct {
	Reason     string
	Err        error
	RetryAfter time.Duration
}

func (e *Stalling) Error() string { return e.Err.Error() }
func (e *Stalling) Unwrap() error { return e.Err }

// Waiting is a dependency that is not there yet: a Normal event and a retry after
// RequeueAfter.
type Waiting struct {
	Reason       string
	Err          error
	RequeueAfter time.Duration
}

func (e *Waiting) Error() string { return e.Err.Error() }
func (e *Waiting) Unwrap() error { return e.Err }

// Generic is a transient failure: a Warning event and a retry with exponential
// backoff by the controller's rate limiter.
type Generic struct {
	Reason string
	Err    error
}

func (e *Generic) Error() string { return e.Err.Error() }
func (e *Generic) Unwrap() error { return e.Err }

// Stall returns a Stalling error.
func Stall(reason string, err error) error { return &Stalling{Reason: reason, Err: err} }

// StallAndRetry returns a Stalling error that looks again after retryAfter.
func StallAndRetry(reason string, retryAfter time.Duration, err error) error {
	return &Stalling{Reason: reason, Err: err, RetryAfter: retryAfter}
}

// Wait returns a Waiting error.
func Wait(reason string, after time.Duration, err error) error {
	return &Waiting{Reason: reason, Err: err, RequeueAfter: after}
}

// Fail returns a Generic error.
func Fail(reason string, err error) error { return &Generic{Reason: reason, Err: err} }

// ReasonOf is the condition reason an error carries; untyped errors are Failed.
func ReasonOf(err error) string {
	switch t := typed(err).(type) {
	case *Stalling:
		return t.Reason
	case *Waiting:
		return t.Reason
	case *Generic:
		return t.Reason
	}
	return FailedReason
}

// typed returns the outermost Stalling, Waiting or Generic error in err's chain,
// or nil. The outermost one is the classification that was made last, with the
// most context: a Waiting error wrapped into a Generic one is retried as Generic.
func typed(err error) error {
	switch t := err.(type) {
	case nil:
		return nil
	case *Stalling, *Waiting, *Generic:
		return t
	case interface{ Unwrap() []error }:
		for _, e := range t.Unwrap() {
			if found := typed(e); found != nil {
				return found
			}
		}
		return nil
	}
	return typed(errors.Unwrap(err))
}

// Generic condition reasons, shared by every kind.
const (
	// SucceededReason: the object is reconciled.
	SucceededReason = "Succeeded"
	// FailedReason: an untyped failure.
	FailedReason = "Failed"
	// ProgressingWithRetryReason: work is under way after a failure.
	ProgressingWithRetryReason = "ProgressingWithRetry"
)
