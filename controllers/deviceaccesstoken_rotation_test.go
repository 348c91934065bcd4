package controllers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// Test_deviceAccessTokenRotationChain runs every trigger of the DeviceAccessToken
// chain on input gathered from a real object and Secret.
func Test_deviceAccessTokenRotationChain(t *testing.T) {
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
		{name: "expired before it could be renewed", now: issued.Add(31 * time.Minute),
			wantReason: tokensv1alpha1.ExpiredReason, wantMessage: "pair 3 expired at 2026-11-25T08:30:00Z"},
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
			d, hit := rotation.DeviceAccessToken.Evaluate((&deviceAccessTokenKind{}).rotationInput(dat, &tokenState{secret: secret, maxAge: tt.maxAge}, now))
			expectDecision(t, d, hit, tt.wantReason, tt.wantMessage)
		})
	}
}
