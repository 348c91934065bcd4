package schedule

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func Test_renewalTime(t *testing.T) {
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	pct := func(p int32) *int32 { return &p }
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	awxDefaultExpiry := issued.AddDate(1000, 0, 0) // AWX default; beyond time.Duration

	tests := []struct {
		name     string
		expires  time.Time
		rotation *tokensv1alpha1.Rotation
		maxAge   time.Duration
		want     time.Time
	}{
		{"default: a third of the lifetime before expiry", issued.Add(30 * time.Minute), nil, 0, issued.Add(20*time.Minute + 6*time.Second)},
		{"percentage", issued.Add(100 * time.Hour), &tokensv1alpha1.Rotation{RenewBeforePercentage: pct(10)}, 0, issued.Add(90 * time.Hour)},
		{"renewBefore", issued.Add(24 * time.Hour), &tokensv1alpha1.Rotation{RenewBefore: dur(time.Hour)}, 0, issued.Add(23 * time.Hour)},
		{"renewBefore longer than the lifetime falls back to the percentage", issued.Add(time.Hour), &tokensv1alpha1.Rotation{RenewBefore: dur(2 * time.Hour)}, 0, issued.Add(40*time.Minute + 12*time.Second)},
		{"renewal times are whole seconds", issued.Add(2 * time.Minute), nil, 0, issued.Add(80 * time.Second)},
		{"maxAge sooner than expiry: AWX's 1000-year tokens", awxDefaultExpiry, nil, 720 * time.Hour, issued.Add(720 * time.Hour)},
		{"expiry sooner than maxAge", issued.Add(10 * time.Hour), nil, 720 * time.Hour, issued.Add(10*time.Hour - 3*time.Hour - 18*time.Minute)},
		{"no expiry: maxAge alone", time.Time{}, nil, 48 * time.Hour, issued.Add(48 * time.Hour)},
		{"no expiry and no maxAge: never", time.Time{}, nil, 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renewalTime(issued, tt.expires, tt.rotation, tt.maxAge); !got.Equal(tt.want) {
				t.Errorf("renewalTime() = %v, want %v", got, tt.want)
			}
		})
	}
}

func Test_EffectiveMaxAge(t *testing.T) {
	hours := func(h int) *time.Duration { d := time.Duration(h) * time.Hour; return &d }
	rot := func(h int) *tokensv1alpha1.Rotation {
		return &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: time.Duration(h) * time.Hour}}
	}
	tests := []struct {
		name     string
		rotation *tokensv1alpha1.Rotation
		policy   *time.Duration
		want     time.Duration
	}{
		{"neither", nil, nil, 0},
		{"token only", rot(720), nil, 720 * time.Hour},
		{"policy only: the policy's limit rotates the token", nil, hours(2160), 2160 * time.Hour},
		{"token under the policy", rot(720), hours(2160), 720 * time.Hour},
		{"token over the policy is capped", rot(4000), hours(2160), 2160 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectiveMaxAge(tt.rotation, tt.policy); got != tt.want {
				t.Errorf("EffectiveMaxAge() = %v, want %v", got, tt.want)
			}
		})
	}
}

func Test_Renewal(t *testing.T) {
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: issued.Add(d)} }
	tests := []struct {
		name        string
		status      tokensv1alpha1.TokenStatus
		maxAge      time.Duration
		now         time.Time
		wantAt      time.Time
		wantRequeue time.Duration
	}{
		{"not minted yet: never, and a look within a day", tokensv1alpha1.TokenStatus{}, 0, issued, time.Time{}, 24 * time.Hour},
		{"no expiry, no maxAge: never", tokensv1alpha1.TokenStatus{IssuedAt: at(0)}, 0, issued, time.Time{}, 24 * time.Hour},
		{"looks again at the renewal", tokensv1alpha1.TokenStatus{IssuedAt: at(0), ExpiresAt: at(3 * time.Hour)}, 0, issued.Add(time.Hour),
			issued.Add(2*time.Hour + 36*time.Second), time.Hour + 36*time.Second}, // 33% of 3h before expiry
		{"a renewal far away: within a day", tokensv1alpha1.TokenStatus{IssuedAt: at(0)}, 720 * time.Hour, issued, issued.Add(720 * time.Hour), 24 * time.Hour},
		{"a renewal past due: in a second, not at once", tokensv1alpha1.TokenStatus{IssuedAt: at(0)}, time.Hour, issued.Add(2 * time.Hour), issued.Add(time.Hour), time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAt, gotRequeue := Renewal(&tt.status, nil, tt.maxAge, "", tt.now) // no key: no jitter
			if !gotAt.Equal(tt.wantAt) || gotRequeue != tt.wantRequeue {
				t.Errorf("Renewal() = %v, %v; want %v, %v", gotAt, gotRequeue, tt.wantAt, tt.wantRequeue)
			}
		})
	}
}

// Test_Renewal_spreadsTokensCreatedTogether: 1,000 tokens issued in the same
// second with the same maxAge do not all renew in the same second, and none
// renews later than its maxAge or earlier than the jitter allows.
func Test_Renewal_spreadsTokensCreatedTogether(t *testing.T) {
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	maxAge := 24 * time.Hour
	status := &tokensv1alpha1.TokenStatus{IssuedAt: &metav1.Time{Time: issued}}
	perSecond := map[time.Time]int{}
	for range 1000 {
		at, _ := Renewal(status, nil, maxAge, string(uuid.NewUUID()), issued)
		if at.After(issued.Add(maxAge)) || at.Before(issued.Add(maxAge-MaxJitter)) {
			t.Fatalf("renewal %s outside [maxAge - %s, maxAge]", at.Sub(issued), MaxJitter)
		}
		perSecond[at]++
	}
	busiest := 0
	for _, n := range perSecond {
		busiest = max(busiest, n)
	}
	// 1,801 seconds to spread over: a fair hash puts a handful in the busiest.
	if len(perSecond) < 500 || busiest > 10 {
		t.Errorf("1,000 renewals fall in %d distinct seconds, at most %d in one: not spread", len(perSecond), busiest)
	}
	key := string(uuid.NewUUID())
	first, _ := Renewal(status, nil, maxAge, key, issued)
	again, _ := Renewal(status, nil, maxAge, key, issued.Add(time.Hour))
	if !first.Equal(again) {
		t.Errorf("a token's renewal moved from %s to %s between two reconciles", first, again)
	}
}

func Test_Jitter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lifetime time.Duration
		max      time.Duration
	}{
		{"a tenth of a short lifetime", 20 * time.Minute, 2 * time.Minute},
		{"capped for long ones", 90 * 24 * time.Hour, MaxJitter},
		{"none under ten seconds", 9 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := 0 * time.Second
			for range 200 {
				j := Jitter(string(uuid.NewUUID()), tc.lifetime)
				if j < 0 || j > tc.max || j%time.Second != 0 {
					t.Fatalf("Jitter = %s, want whole seconds in [0, %s]", j, tc.max)
				}
				seen = max(seen, j)
			}
			if tc.max > 0 && seen < tc.max/2 {
				t.Errorf("200 tokens jitter at most %s of the %s allowed", seen, tc.max)
			}
		})
	}
}

// The reconcile that mints a token knows its issue time to the nanosecond; the
// ones after read it from status, in whole seconds. Both must find the same
// renewal, or each would write it anew.
func Test_Renewal_sameFromStatusAsFromTheMint(t *testing.T) {
	issued := time.Date(2026, 11, 1, 0, 0, 0, 987_654_321, time.UTC)
	inMemory := &tokensv1alpha1.TokenStatus{IssuedAt: &metav1.Time{Time: issued}, ExpiresAt: &metav1.Time{Time: issued.Add(90 * time.Minute)}}
	stored := &tokensv1alpha1.TokenStatus{IssuedAt: &metav1.Time{Time: issued.Truncate(time.Second)},
		ExpiresAt: &metav1.Time{Time: issued.Add(90 * time.Minute).Truncate(time.Second)}}
	for range 100 {
		key := string(uuid.NewUUID())
		for _, maxAge := range []time.Duration{0, time.Hour} {
			a, _ := Renewal(inMemory, nil, maxAge, key, issued)
			b, _ := Renewal(stored, nil, maxAge, key, issued)
			if !a.Equal(b) {
				t.Fatalf("maxAge %s: renewal %s from the mint, %s from status", maxAge, a, b)
			}
		}
	}
}
