package reconcile

import (
	"errors"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
)

func Test_ResultAndReasonFollowTheOutermostClassification(t *testing.T) {
	waiting := Wait("CredentialsNotFound", time.Minute, errors.New("secret not found"))
	tests := []struct {
		name       string
		err        error
		wantReason string
		wantResult ctrl.Result
		wantErr    bool
	}{
		{"success", nil, FailedReason, ctrl.Result{RequeueAfter: time.Hour}, false},
		{"stalling waits for a change", Stall("PolicyViolation", errors.New("no")), "PolicyViolation", ctrl.Result{}, false},
		{"stalling with a retry looks again later", StallAndRetry("AuthenticationFailed", 10*time.Minute, errors.New("401")), "AuthenticationFailed", ctrl.Result{RequeueAfter: 10 * time.Minute}, false},
		{"waiting requeues after its delay", waiting, "CredentialsNotFound", ctrl.Result{RequeueAfter: time.Minute}, false},
		{"generic goes to the rate limiter", Fail("RemoteAPIError", errors.New("502")), "RemoteAPIError", ctrl.Result{}, true},
		{"untyped is Failed", errors.New("boom"), FailedReason, ctrl.Result{}, true},
		{"waiting wrapped into generic is generic", Fail("RevocationBlocked", fmt.Errorf("blocked: %w", waiting)), "RevocationBlocked", ctrl.Result{}, true},
		{"context around a typed error keeps it", fmt.Errorf("mint: %w", waiting), "CredentialsNotFound", ctrl.Result{RequeueAfter: time.Minute}, false},
		{"a conflict requeues shortly, without an error", fmt.Errorf("patch: %w", apierrors.NewConflict(schema.GroupResource{Resource: "tokens"}, "x", errors.New("stale"))), FailedReason, ctrl.Result{RequeueAfter: time.Second}, false},
		{"joined errors: the first typed one", errors.Join(Stall("UserMismatch", errors.New("x")), errors.New("patch failed")), "UserMismatch", ctrl.Result{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err != nil {
				if got := ReasonOf(tt.err); got != tt.wantReason {
					t.Errorf("ReasonOf() = %q, want %q", got, tt.wantReason)
				}
			}
			result, err := Result(ctrl.Result{RequeueAfter: time.Hour}, tt.err)
			if result != tt.wantResult || (err != nil) != tt.wantErr {
				t.Errorf("Result() = %+v, %v; want %+v, error %v", result, err, tt.wantResult, tt.wantErr)
			}
		})
	}
}
