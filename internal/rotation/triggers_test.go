package rotation

import (
	"strings"
	"testing"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func Test_triggers(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	// held is a token that calls for nothing: every trigger must stay quiet on it.
	held := Input{
		Now: now, Noun: "token", Subject: "token 7", Exists: true,
		SecretName: "s", HeldIn: "s", SecretFound: true, SecretHolds: true,
		ExpiresAt: now.Add(time.Hour), RenewalTime: now.Add(time.Minute),
		WantUser: "bot", HeldUser: "bot",
		MintedAt: "Controller API at https://awx.example", IssuerAt: "Controller API at https://awx.example",
		HeldLifetimes: Lifetimes{time.Hour, 2 * time.Hour}, WantLifetimes: Lifetimes{time.Hour, 2 * time.Hour},
	}
	tests := []struct {
		name        string
		trigger     Trigger
		mutate      func(*Input)
		wantReason  string // empty: no hit
		wantMessage string
	}{
		{"DoesNotExist: minted", DoesNotExist, nil, "", ""},
		{"DoesNotExist: never minted", DoesNotExist, func(in *Input) { in.Exists = false }, tokensv1alpha1.DoesNotExistReason, "no token has been minted yet"},
		{"SecretMissing: present", SecretMissing, nil, "", ""},
		{"SecretMissing: deleted", SecretMissing, func(in *Input) { in.SecretFound = false }, tokensv1alpha1.SecretMissingReason, `Secret "s" that held token 7 is gone`},
		{"SecretMissing: renamed", SecretMissing, func(in *Input) { in.SecretFound, in.SecretName = false, "t" }, tokensv1alpha1.SecretMissingReason, `spec.secret.name changed from "s" to "t"`},
		{"SecretMismatch: holds", SecretMismatch, nil, "", ""},
		{"SecretMismatch: edited", SecretMismatch, func(in *Input) { in.SecretHolds = false }, tokensv1alpha1.SecretMismatchReason, `Secret "s" no longer holds token 7`},
		{"IssuerChanged: same place", IssuerChanged, nil, "", ""},
		{"IssuerChanged: minted before endpoints were recorded", IssuerChanged, func(in *Input) { in.MintedAt = "" }, "", ""},
		{"IssuerChanged: API not detected yet", IssuerChanged, func(in *Input) { in.IssuerAt = "" }, "", ""},
		{"IssuerChanged: moved", IssuerChanged, func(in *Input) { in.IssuerAt = "Gateway API at https://aap.example" },
			tokensv1alpha1.IssuerChangedReason, "token 7 was minted by the Controller API at https://awx.example, but the issuer now mints with the Gateway API at https://aap.example"},
		{"UserChanged: same user", UserChanged, nil, "", ""},
		{"UserChanged: any user", UserChanged, func(in *Input) { in.WantUser = "" }, "", ""},
		{"UserChanged: another user", UserChanged, func(in *Input) { in.WantUser = "deploy" }, tokensv1alpha1.UserChangedReason, `spec.user is "deploy" but token 7 belongs to "bot"`},
		{"RightsChanged: same rights", RightsChanged, nil, "", ""},
		{"RightsChanged: other actions", RightsChanged, func(in *Input) { in.RightsDiffer = "actions" }, tokensv1alpha1.RightsChangedReason, "spec.actions differs from the rights of token 7"},
		{"LifetimeChanged: same", LifetimeChanged, nil, "", ""},
		{"LifetimeChanged: refresh", LifetimeChanged, func(in *Input) { in.WantLifetimes.Refresh = 3 * time.Hour }, tokensv1alpha1.LifetimeChangedReason, "token 7 lives 1h0m0s (refresh 2h0m0s) but the spec asks for 1h0m0s (refresh 3h0m0s)"},
		{"RotateRequested: none", RotateRequested, nil, "", ""},
		{"RotateRequested: new value", RotateRequested, func(in *Input) { in.RotateRequested = "1" }, tokensv1alpha1.ManuallyTriggeredReason, `tokenoperator.io/rotate="1"`},
		{"RotateRequested: handled", RotateRequested, func(in *Input) { in.RotateRequested, in.RotateHandled = "1", "1" }, "", ""},
		{"Expired: valid", Expired, nil, "", ""},
		{"Expired: never expires", Expired, func(in *Input) { in.ExpiresAt = time.Time{} }, "", ""},
		{"Expired: at expiry", Expired, func(in *Input) { in.ExpiresAt = now }, tokensv1alpha1.ExpiredReason, "token 7 expired at 2026-11-25T08:00:00Z"},
		{"RenewalDue: before", RenewalDue, nil, "", ""},
		{"RenewalDue: never", RenewalDue, func(in *Input) { in.RenewalTime = time.Time{} }, "", ""},
		{"RenewalDue: at renewal", RenewalDue, func(in *Input) { in.RenewalTime = now }, tokensv1alpha1.RenewalDueReason, "token 7 reached its renewal time 2026-11-25T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := held
			if tt.mutate != nil {
				tt.mutate(&in)
			}
			d, hit := tt.trigger(in)
			switch {
			case tt.wantReason == "" && hit:
				t.Fatalf("want no hit, got %s: %s", d.Reason, d.Message)
			case tt.wantReason != "" && (!hit || d.Reason != tt.wantReason):
				t.Fatalf("want %s, got hit=%v %q", tt.wantReason, hit, d.Reason)
			case !strings.Contains(d.Message, tt.wantMessage):
				t.Fatalf("want a message containing %q, got %q", tt.wantMessage, d.Message)
			}
		})
	}
}

func Test_ChainFirstHitWins(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	// Expired and due for renewal: the chain names the more precise reason.
	in := Input{Now: now, Subject: "pair 2", Exists: true, SecretFound: true, SecretHolds: true,
		ExpiresAt: now.Add(-time.Second), RenewalTime: now.Add(-time.Minute)}
	for name, chain := range map[string]Chain{"PersonalToken": PersonalToken, "DeviceAccessToken": DeviceAccessToken} {
		if d, hit := chain.Evaluate(in); !hit || d.Reason != tokensv1alpha1.ExpiredReason {
			t.Errorf("%s chain: got %v %+v, want Expired", name, hit, d)
		}
		quiet := in
		quiet.ExpiresAt, quiet.RenewalTime = now.Add(time.Hour), now.Add(time.Minute)
		if d, hit := chain.Evaluate(quiet); hit {
			t.Errorf("%s chain: a current token hit %+v", name, d)
		}
	}
}
