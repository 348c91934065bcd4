package controllers

import (
	"errors"
	"testing"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// The errors of reading a Secret are shared by the tokens that waited for the
// read: backing one token off leaves the error the others hold as it was.
func TestBackOffRemoteWaits_LeavesTheSharedErrorAlone(t *testing.T) {
	shared := reconcile.Wait(tokensv1alpha1.RemoteErrorReason, time.Second, errors.New("AWX answered 429"))
	backedOff := backOffRemoteWaits(&tokensv1alpha1.TokenStatus{FailedIssuanceAttempts: 6}, shared)

	var waiting *reconcile.Waiting
	if !errors.As(backedOff, &waiting) || waiting.RequeueAfter != failureBackoff.base<<5 {
		t.Errorf("the sixth failure waits %v, want %v", waiting, failureBackoff.base<<5)
	}
	if errors.As(shared, &waiting); waiting.RequeueAfter != time.Second {
		t.Errorf("the shared error now waits %s, want the 1s it said", waiting.RequeueAfter)
	}
	if backedOff.Error() != shared.Error() {
		t.Errorf("the message changed: %q", backedOff.Error())
	}
}
