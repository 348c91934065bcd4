package kubectltoken

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/schedule"
)

// renewalPlan says when t's next token is minted and why, if that is before
// horizon. A mint under way or asked for is due now.
func renewalPlan(t token, now, horizon time.Time) (time.Time, string, bool) {
	st := t.status()
	if c := meta.FindStatusCondition(st.Conditions, tokensv1alpha1.IssuingCondition); c != nil && c.Status == metav1.ConditionTrue {
		return now, fmt.Sprintf("being issued now (%s): %s", c.Reason, c.Message), true
	}
	if v := t.rotatePending(); v != "" {
		return now, fmt.Sprintf("%s=%s asks for it and is not handled yet", tokensv1alpha1.RotateAnnotation, v), true
	}
	if st.IssuedAt == nil || st.RenewalTime == nil {
		if st.Revision == 0 {
			return now, "no token minted yet; Ready says: " + readyMessage(st.Conditions), true
		}
		return time.Time{}, "", false
	}
	at := st.RenewalTime.Time
	if at.After(horizon) {
		return time.Time{}, "", false
	}
	why := renewalReason(t, now)
	if period := at.Sub(st.IssuedAt.Time); period > 0 && !at.Add(period).After(horizon) {
		why += fmt.Sprintf("; then about every %s", shortDuration(period))
	}
	if !at.After(now) {
		why = fmt.Sprintf("overdue: %s; Ready says: %s", why, readyMessage(st.Conditions))
	}
	return at, why, true
}

// renewalReason says which rule set renewalTime: the time left before expiry
// (renewBefore or a percentage of the lifetime), or maxAge (the token's, or the
// issuer policy's when it is shorter).
func renewalReason(t token, now time.Time) string {
	st, rotation := t.status(), t.obj.GetRotation()
	if st.ExpiresAt != nil {
		// maxAge 0 leaves the rule of the expiry alone.
		if byExpiry, _ := schedule.Renewal(st, rotation, 0, string(t.obj.GetUID()), now); byExpiry.Equal(st.RenewalTime.Time) {
			left := st.ExpiresAt.Sub(byExpiry)
			rule := fmt.Sprintf("renewBeforePercentage %d%%", schedule.DefaultRenewBeforePercentage)
			switch {
			// The operator uses renewBefore when it is shorter than the lifetime.
			case rotation != nil && rotation.RenewBefore != nil && rotation.RenewBefore.Duration < st.ExpiresAt.Sub(st.IssuedAt.Time):
				rule = "renewBefore"
			case rotation != nil && rotation.RenewBeforePercentage != nil:
				rule = fmt.Sprintf("renewBeforePercentage %d%%", *rotation.RenewBeforePercentage)
			}
			return fmt.Sprintf("%s before it expires at %s (%s)", shortDuration(left), st.ExpiresAt.UTC().Format(time.RFC3339), rule)
		}
	}
	if rotation != nil && rotation.MaxAge != nil {
		byAge := *st
		byAge.ExpiresAt = nil
		if at, _ := schedule.Renewal(&byAge, rotation, rotation.MaxAge.Duration, string(t.obj.GetUID()), now); at.Equal(st.RenewalTime.Time) {
			return fmt.Sprintf("maxAge %s reached", shortDuration(rotation.MaxAge.Duration))
		}
	}
	// The renewal comes up to schedule.Jitter early, to spread tokens created together.
	age := st.RenewalTime.Sub(st.IssuedAt.Time)
	return fmt.Sprintf("the issuer's policy maxAge reached (at an age of %s)", shortDuration(age))
}

// revocationWhy says what a replaced AWX token's revocation waits for: the
// rotation overlap (revokeAt), then the Secret's consumers, up to revokeBy.
func revocationWhy(t token, prev tokensv1alpha1.PreviousToken, now time.Time) string {
	st := t.status()
	waiting := waitingOn(st.Consumers)
	// The operator waits on consumers until every one recorded for the Secret's
	// current content has rolled out.
	waits := prev.RevokeBy != nil && (st.SecretVersion == "" || len(waiting) > 0)
	overlap := "its rotation overlap ends"
	if !prev.RevokeAt.After(now) {
		overlap = "its rotation overlap has ended"
	}
	switch {
	case waits && prev.RevokeBy.After(now):
		on := "the Secret's consumers to be found"
		if len(waiting) > 0 {
			on = strings.Join(waiting, ", ") + " to roll out"
		}
		return fmt.Sprintf("%s, then it waits on %s, until its revokeBy %s at the latest", overlap, on, prev.RevokeBy.UTC().Format(time.RFC3339))
	case prev.RevokeAt.After(now) && prev.RevokeBy != nil:
		return overlap + ", and the Secret's consumers have rolled out"
	case prev.RevokeAt.After(now):
		return overlap
	}
	return "overdue: " + overlap + " and nothing holds it back, yet it is not revoked; Ready says: " + readyMessage(st.Conditions)
}

// shortDuration is d as a spec writes it: 1m, 720h, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
