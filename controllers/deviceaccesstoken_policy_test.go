package controllers

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
)

// baseDeviceAccessToken is a valid spec with no status.
func baseDeviceAccessToken() *tokensv1alpha1.DeviceAccessToken {
	return &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Name: "sensor", Namespace: "iot"},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "devicehive"},
			UserID:               2,
			Actions:              []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
			NetworkIDs:           []string{"1", "3"},
			DeviceTypeIDs:        []string{"*"},
			AccessTokenLifetime:  metav1.Duration{Duration: 30 * time.Minute},
			RefreshTokenLifetime: metav1.Duration{Duration: 168 * time.Hour},
			Secret:               tokensv1alpha1.SecretTemplate{Name: "sensor-dh"},
		},
	}
}

func Test_checkDeviceAccessTokenPolicy(t *testing.T) {
	issuer := func(policy *tokensv1alpha1.IssuerPolicy) resolvedIssuer {
		return resolvedIssuer{
			ref:  tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "devicehive"},
			spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{}, Policy: policy},
		}
	}
	tests := []struct {
		name    string
		policy  *tokensv1alpha1.IssuerPolicy
		mutate  func(*tokensv1alpha1.DeviceAccessToken)
		wantErr string // empty: allowed
	}{
		{name: "no policy allows every action and device types wildcard"},
		{name: "no policy refuses a wildcard network",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} },
			wantErr: `spec.networkIds: ["*"] is not allowed by TokenIssuer "devicehive" (policy.allowWildcardNetworks is not true)`},
		{name: "allowWildcardNetworks false refuses it",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowWildcardNetworks: ptr.To(false)},
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} },
			wantErr: "policy.allowWildcardNetworks is not true"},
		{name: "allowWildcardNetworks true allows it",
			policy: &tokensv1alpha1.IssuerPolicy{AllowWildcardNetworks: ptr.To(true)},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} }},
		{name: "allowWildcardDeviceTypes false refuses a wildcard device type",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowWildcardDeviceTypes: ptr.To(false)},
			wantErr: `spec.deviceTypeIds: ["*"] is not allowed by TokenIssuer "devicehive" (policy.allowWildcardDeviceTypes is false)`},
		{name: "allowWildcardDeviceTypes false allows listed device types",
			policy: &tokensv1alpha1.IssuerPolicy{AllowWildcardDeviceTypes: ptr.To(false)},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.DeviceTypeIDs = []string{"4"} }},
		{name: "no policy refuses ManageToken, which would mint tokens of any rights",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = append(d.Spec.Actions, "ManageToken") },
			wantErr: `spec.actions: "ManageToken" is privileged and TokenIssuer "devicehive" does not list it in policy.allowedActions`},
		{name: "no policy refuses an admin action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"ManageUser"}
			},
			wantErr: `spec.actions: "ManageUser" is privileged`},
		{name: "a privileged action listed by name is allowed",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification", "ManageToken"}},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = append(d.Spec.Actions, "ManageToken") }},
		{name: "allowedActions allows a subset",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification", "GetNetwork"}}},
		{name: "allowedActions refuses another action",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice"}},
			wantErr: `spec.actions: "GetDeviceNotification" is not allowed by TokenIssuer "devicehive" (policy.allowedActions: [GetDevice])`},
		{name: "access lifetime at the max",
			policy: &tokensv1alpha1.IssuerPolicy{MaxAccessTokenLifetime: &metav1.Duration{Duration: 30 * time.Minute}}},
		{name: "access lifetime above the max",
			policy:  &tokensv1alpha1.IssuerPolicy{MaxAccessTokenLifetime: &metav1.Duration{Duration: 10 * time.Minute}},
			wantErr: `spec.accessTokenLifetime: 30m0s is longer than the 10m0s allowed by TokenIssuer "devicehive" (policy.maxAccessTokenLifetime)`},
		{name: "refresh lifetime above the max",
			policy:  &tokensv1alpha1.IssuerPolicy{MaxRefreshTokenLifetime: &metav1.Duration{Duration: 24 * time.Hour}},
			wantErr: `spec.refreshTokenLifetime: 168h0m0s is longer than the 24h0m0s allowed by TokenIssuer "devicehive" (policy.maxRefreshTokenLifetime)`},
		// Below: what the CRD already refuses, refused again before DeviceHive widens it.
		{name: "empty actions",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = nil },
			wantErr: "spec.actions: must not be empty"},
		{name: "unknown action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"getdevice"}
			},
			wantErr: `spec.actions: unknown action "getdevice"`},
		{name: "repeated action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDevice"}
			},
			wantErr: `spec.actions: action "GetDevice" is repeated`},
		{name: "wildcard action",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"*"} },
			wantErr: "spec.actions:"},
		{name: "non-numeric network",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"north"} },
			wantErr: "spec.networkIds:"},
		{name: "no device types",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.DeviceTypeIDs = nil },
			wantErr: "spec.deviceTypeIds: must not be empty"},
		{name: "user 0",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.UserID = 0 },
			wantErr: "spec.userId: must be at least 1"},
		{name: "zero lifetime",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.AccessTokenLifetime = metav1.Duration{} },
			wantErr: "spec.accessTokenLifetime (0s) must be at least 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dat := baseDeviceAccessToken()
			if tt.mutate != nil {
				tt.mutate(dat)
			}
			err := checkDeviceAccessTokenPolicy(dat, issuer(tt.policy))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want allowed, got %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("want refused with %q, got allowed", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("want an error containing %q, got %q", tt.wantErr, err)
			}
		})
	}
}

func Test_deviceAccessTokenMintReason(t *testing.T) {
	signer, err := devicehive.NewSigner(dhJWTSecret)
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	// current is base with pair 3 minted at issued, held in its Secret.
	current := func() (*tokensv1alpha1.DeviceAccessToken, *corev1.Secret) {
		dat := baseDeviceAccessToken()
		pair, err := signer.Mint(deviceAccessTokenRights(dat), issued.Add(30*time.Minute), issued.Add(168*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		rememberDeviceHiveValues(pair.AccessToken.Reveal(), pair.RefreshToken.Reveal())
		dat.Status.Revision = 3
		dat.Status.SecretName = "sensor-dh"
		dat.Status.IssuedAt = &metav1.Time{Time: issued}
		dat.Status.ExpiresAt = &metav1.Time{Time: pair.AccessExpiresAt}
		dat.Status.RefreshTokenExpiresAt = &metav1.Time{Time: pair.RefreshExpiresAt}
		secret := desiredDeviceAccessTokenSecret(dat, pair.AccessToken.Reveal(), pair.RefreshToken.Reveal(), pair.AccessExpiresAt, pair.RefreshExpiresAt)
		return dat, secret
	}
	// Default rotation: renew when a third of 30m is left, at issued + 20m6s.
	renewal := issued.Add(30*time.Minute - 594*time.Second)
	tests := []struct {
		name        string
		mutate      func(dat *tokensv1alpha1.DeviceAccessToken, secret *corev1.Secret) *corev1.Secret
		now         time.Time
		maxAge      time.Duration
		wantReason  string // empty: no mint
		wantMessage string
	}{
		{name: "a current pair stays", now: issued.Add(time.Minute)},
		{name: "never minted",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, _ *corev1.Secret) *corev1.Secret {
				d.Status = tokensv1alpha1.DeviceAccessTokenStatus{}
				return nil
			},
			wantReason: tokensv1alpha1.DoesNotExistReason, wantMessage: "no pair has been minted yet"},
		{name: "Secret deleted",
			mutate:     func(*tokensv1alpha1.DeviceAccessToken, *corev1.Secret) *corev1.Secret { return nil },
			wantReason: tokensv1alpha1.SecretMissingReason, wantMessage: `Secret "sensor-dh" that held pair 3 is gone`},
		{name: "Secret renamed",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, _ *corev1.Secret) *corev1.Secret {
				d.Spec.Secret.Name = "renamed"
				return nil
			},
			wantReason: tokensv1alpha1.SecretMissingReason, wantMessage: `spec.secret.name changed from "sensor-dh" to "renamed"`},
		{name: "access token edited by hand",
			mutate: func(_ *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				s.Data[deviceAccessTokenKey] = []byte("pasted")
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason, wantMessage: `Secret "sensor-dh" no longer holds pair 3`},
		{name: "hash annotation removed",
			mutate: func(_ *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				delete(s.Annotations, tokensv1alpha1.TokenHashAnnotation)
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason},
		{name: "refresh token removed",
			mutate: func(_ *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				delete(s.Data, deviceRefreshTokenKey)
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason},
		{name: "Secret holds another pair than status (a lost commit)",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Status.ExpiresAt = &metav1.Time{Time: issued.Add(29 * time.Minute)}
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason},
		{name: "an action added",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.Actions = append(d.Spec.Actions, "GetDeviceCommand")
				return s
			},
			wantReason: tokensv1alpha1.RightsChangedReason, wantMessage: "spec.actions differs from the rights of pair 3"},
		{name: "the same actions in another order",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDeviceNotification", "GetDevice"}
				d.Spec.NetworkIDs = []string{"3", "1"}
				return s
			},
			now: issued.Add(time.Minute)},
		{name: "a network removed",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.NetworkIDs = []string{"1"}
				return s
			},
			wantReason: tokensv1alpha1.RightsChangedReason, wantMessage: "spec.networkIds"},
		{name: "device types narrowed",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.DeviceTypeIDs = []string{"5"}
				return s
			},
			wantReason: tokensv1alpha1.RightsChangedReason, wantMessage: "spec.deviceTypeIds"},
		{name: "another user",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.UserID = 5
				return s
			},
			wantReason: tokensv1alpha1.RightsChangedReason, wantMessage: "spec.userId"},
		{name: "access lifetime changed",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.AccessTokenLifetime = metav1.Duration{Duration: 10 * time.Minute}
				return s
			},
			wantReason: tokensv1alpha1.LifetimeChangedReason, wantMessage: "pair 3 lives 30m0s (refresh 168h0m0s) but the spec asks for 10m0s"},
		{name: "refresh lifetime changed",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 24 * time.Hour}
				return s
			},
			wantReason: tokensv1alpha1.LifetimeChangedReason},
		{name: "rotate annotation set",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "now"}
				return s
			},
			wantReason: tokensv1alpha1.ManuallyTriggeredReason, wantMessage: `rotation requested with tokenoperator.io/rotate="now"`},
		{name: "rotate annotation already handled",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "now"}
				d.Status.LastHandledRotateAt = "now"
				return s
			},
			now: issued.Add(time.Minute)},
		{name: "just before renewal", now: renewal.Add(-time.Millisecond)},
		{name: "at renewal", now: renewal,
			wantReason: tokensv1alpha1.RenewalDueReason, wantMessage: "pair 3 reached its renewal time 2026-11-25T08:20:06Z"},
		{name: "renewBefore", now: issued.Add(24 * time.Minute),
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.Rotation = &tokensv1alpha1.Rotation{RenewBefore: &metav1.Duration{Duration: 5 * time.Minute}}
				return s
			}},
		{name: "renewBefore reached", now: issued.Add(25 * time.Minute),
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, s *corev1.Secret) *corev1.Secret {
				d.Spec.Rotation = &tokensv1alpha1.Rotation{RenewBefore: &metav1.Duration{Duration: 5 * time.Minute}}
				return s
			},
			wantReason: tokensv1alpha1.RenewalDueReason},
		{name: "maxAge reached before the expiry-based renewal", now: issued.Add(10 * time.Minute), maxAge: 10 * time.Minute,
			wantReason: tokensv1alpha1.RenewalDueReason, wantMessage: "2026-11-25T08:10:00Z"},
		{name: "the first hit wins: a missing Secret over changed rights",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken, _ *corev1.Secret) *corev1.Secret {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetNetwork"}
				return nil
			},
			wantReason: tokensv1alpha1.SecretMissingReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dat, secret := current()
			if tt.mutate != nil {
				secret = tt.mutate(dat, secret)
			}
			now := tt.now
			if now.IsZero() {
				now = issued.Add(time.Minute)
			}
			in := deviceAccessTokenInput{token: dat, secret: secret, pair: heldPair(secret), now: now, maxAge: tt.maxAge}
			reason, message, hit := deviceAccessTokenMintReason(in)
			switch {
			case tt.wantReason == "" && hit:
				t.Fatalf("want no mint, got %s: %s", reason, message)
			case tt.wantReason != "" && reason != tt.wantReason:
				t.Fatalf("want %s, got %q (%s)", tt.wantReason, reason, message)
			case !strings.Contains(message, tt.wantMessage):
				t.Fatalf("want a message containing %q, got %q", tt.wantMessage, message)
			}
		})
	}
}
