package controllers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/rotation"
)

// Test_personalTokenRotationChain runs every trigger of the PersonalToken chain on
// input gathered from a real object and Secret.
func Test_personalTokenRotationChain(t *testing.T) {
	issued := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	// current is token 42 of ci-bot, minted at issued with a 30-day maxAge and
	// held in its Secret.
	current := func() (*tokensv1alpha1.PersonalToken, *corev1.Secret) {
		pt := &tokensv1alpha1.PersonalToken{
			ObjectMeta: metav1.ObjectMeta{Name: "ci", Namespace: "ci"},
			Spec: tokensv1alpha1.PersonalTokenSpec{
				User:   "ci-bot",
				Secret: tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: "ci-awx"}, Format: tokensv1alpha1.SecretFormatController},
			},
		}
		pt.Status.TokenID = 42
		pt.Status.User = "ci-bot"
		pt.Status.Revision = 3
		pt.Status.SecretName = "ci-awx"
		pt.Status.IssuedAt = &metav1.Time{Time: issued}
		return pt, desiredPersonalTokenSecret(pt, "https://awx.example.com", 42, "a-token-value-for-the-chain-test")
	}
	maxAge := 720 * time.Hour
	tests := []struct {
		name        string
		mutate      func(pt *tokensv1alpha1.PersonalToken, secret *corev1.Secret) *corev1.Secret
		now         time.Time
		wantReason  string // empty: no mint
		wantMessage string
	}{
		{name: "a current token stays"},
		{name: "never minted",
			mutate: func(pt *tokensv1alpha1.PersonalToken, _ *corev1.Secret) *corev1.Secret {
				pt.Status = tokensv1alpha1.PersonalTokenStatus{}
				return nil
			},
			wantReason: tokensv1alpha1.DoesNotExistReason, wantMessage: "no token has been minted yet"},
		{name: "Secret deleted",
			mutate:     func(*tokensv1alpha1.PersonalToken, *corev1.Secret) *corev1.Secret { return nil },
			wantReason: tokensv1alpha1.SecretMissingReason, wantMessage: `Secret "ci-awx" that held token 42 is gone`},
		{name: "Secret renamed",
			mutate: func(pt *tokensv1alpha1.PersonalToken, _ *corev1.Secret) *corev1.Secret {
				pt.Spec.Secret.Name = "renamed"
				return nil
			},
			wantReason: tokensv1alpha1.SecretMissingReason, wantMessage: `spec.secret.name changed from "ci-awx" to "renamed"`},
		{name: "value edited by hand",
			mutate: func(_ *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				s.Data["CONTROLLER_OAUTH_TOKEN"] = []byte("pasted")
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason, wantMessage: `Secret "ci-awx" no longer holds token 42`},
		{name: "Secret holds another token than status (a lost commit)",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Status.TokenID = 41
				return s
			},
			wantReason: tokensv1alpha1.SecretMismatchReason},
		{name: "another format holds the same token",
			mutate: func(pt *tokensv1alpha1.PersonalToken, _ *corev1.Secret) *corev1.Secret {
				pt.Spec.Secret.Format = tokensv1alpha1.SecretFormatTower
				return desiredPersonalTokenSecret(pt, "https://awx.example.com", 42, "a-token-value-for-the-chain-test")
			}},
		{name: "spec.user changed",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Spec.User = "deploy-bot"
				return s
			},
			wantReason: tokensv1alpha1.UserChangedReason, wantMessage: `spec.user is "deploy-bot" but token 42 belongs to "ci-bot"`},
		{name: "spec.user unset: any user",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Spec.User = ""
				return s
			}},
		{name: "rotate annotation set",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "2026-11-25"}
				return s
			},
			wantReason: tokensv1alpha1.ManuallyTriggeredReason, wantMessage: `rotation requested with tokenoperator.io/rotate="2026-11-25"`},
		{name: "rotate annotation already handled",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "2026-11-25"}
				pt.Status.LastHandledRotateAt = "2026-11-25"
				return s
			}},
		{name: "just before maxAge", now: issued.Add(maxAge - time.Second)},
		{name: "maxAge reached", now: issued.Add(maxAge),
			wantReason: tokensv1alpha1.RenewalDueReason, wantMessage: "token 42 reached its renewal time 2026-12-25T08:00:00Z"},
		{name: "an expiry set by an administrator renews a third before it",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Status.ExpiresAt = &metav1.Time{Time: issued.Add(30 * time.Hour)}
				return s
			},
			now: issued.Add(21 * time.Hour), wantReason: tokensv1alpha1.RenewalDueReason},
		{name: "expired before it could be renewed",
			mutate: func(pt *tokensv1alpha1.PersonalToken, s *corev1.Secret) *corev1.Secret {
				pt.Status.ExpiresAt = &metav1.Time{Time: issued.Add(30 * time.Hour)}
				return s
			},
			now: issued.Add(31 * time.Hour), wantReason: tokensv1alpha1.ExpiredReason, wantMessage: "token 42 expired at 2026-11-26T14:00:00Z"},
		{name: "the first hit wins: a missing Secret over a rotate request",
			mutate: func(pt *tokensv1alpha1.PersonalToken, _ *corev1.Secret) *corev1.Secret {
				pt.Annotations = map[string]string{tokensv1alpha1.RotateAnnotation: "now"}
				return nil
			},
			wantReason: tokensv1alpha1.SecretMissingReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, secret := current()
			if tt.mutate != nil {
				secret = tt.mutate(pt, secret)
			}
			now := tt.now
			if now.IsZero() {
				now = issued.Add(time.Minute)
			}
			d, hit := rotation.PersonalToken.Evaluate((&personalTokenKind{}).rotationInput(pt, &tokenState{secret: secret, maxAge: maxAge}, now))
			expectDecision(t, d, hit, tt.wantReason, tt.wantMessage)
		})
	}
}
