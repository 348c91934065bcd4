package argocd

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

const (
	// dhJWTSecret is the test servers' JWT secret, Base64 as a deployment's is.
	dhJWTSecret     = "dG9rZW4tb3BlcmF0b3IgQXJnbyBDRCBoZWFsdGggdGVzdCBKV1Qgc2VjcmV0"
	dhAdminLogin    = "dh-admin"
	dhAdminPassword = "dh-admin-password"
	dhUserID        = int64(2)
	// The Secrets issuers name: the signing key, the admin's login, and one
	// with a password the admin no longer has.
	signingKey       = "dh-jwt-secret"
	adminCredentials = "dh-admin"
	staleCredentials = "dh-admin-stale"
)

// deviceAccessTokenTest brings DeviceAccessTokens, each with a DeviceHive and a
// TokenIssuer of its own, into every state.
func deviceAccessTokenTest() kindTest {
	const namespace = "iot"
	return kindTest{
		kind:      "DeviceAccessToken",
		namespace: namespace,
		secrets: []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Name: signingKey, Namespace: namespace}, StringData: map[string]string{"secret": dhJWTSecret}},
			deviceHiveLogin(namespace, adminCredentials, dhAdminPassword),
			deviceHiveLogin(namespace, staleCredentials, "an-old-password"),
		},
		scenarios: map[string]func(w *world){
			// New, Ready, then a new generation.
			"lifecycle": func(w *world) {
				w.ready(tokenIssuer(w.ns, "dh-offline", offlineIssuer(w.deviceHive("devicehive.example.com").URL(), nil)))
				dat := deviceAccessToken(w.ns, "sensor-reader", "dh-offline")
				created := w.create(dat)
				w.capture("progressing_new", health{"Progressing", notReconciled(created)}, created)
				ready := w.await(dat, reconciled, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
				w.capture("healthy", health{"Healthy", messageOf(ready, tokensv1alpha1.ReadyCondition)}, ready)
				w.specChanged("progressing_newGeneration", dat, `{"spec":{"accessTokenLifetime":"45m"}}`)
			},
			"issuing": func(w *world) {
				dh := w.deviceHive("devicehive.example.com")
				w.ready(tokenIssuer(w.ns, "dh-slow", apiIssuer(dh.URL(), adminCredentials)))
				dh.DelayNext(dhtest.KindCreate, hang)
				issuing := w.await(w.createOnly(deviceAccessToken(w.ns, "sensor-writer", "dh-slow")),
					hasCondition(tokensv1alpha1.IssuingCondition, metav1.ConditionTrue, tokensv1alpha1.DoesNotExistReason))
				w.capture("progressing_issuing", health{"Progressing", messageOf(issuing, tokensv1alpha1.ReconcilingCondition)}, issuing)
			},
			"issuerNotFound": func(w *world) {
				waiting := w.await(w.createOnly(deviceAccessToken(w.ns, "sensor-mapper", "dh-not-yet")),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.IssuerNotFoundReason))
				w.capture("progressing_issuerNotFound", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
			},
			// The issuer's own failure is its health; the pair waits for it.
			"issuerNotReady": func(w *world) {
				w.await(w.createOnly(tokenIssuer(w.ns, "dh-locked-out", apiIssuer(w.deviceHive("devicehive.example.com").URL(), staleCredentials))),
					hasCondition(tokensv1alpha1.StalledCondition, metav1.ConditionTrue, tokensv1alpha1.AuthenticationFailedReason))
				waiting := w.await(w.createOnly(deviceAccessToken(w.ns, "sensor-auditor", "dh-locked-out")),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.IssuerNotReadyReason),
					// Not "has not been checked yet", from a cache that had not seen the check.
					messageContains(tokensv1alpha1.ReadyCondition, tokensv1alpha1.AuthenticationFailedReason))
				w.capture("progressing_issuerNotReady", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
			},
			"issuerBusy": func(w *world) {
				dh := w.deviceHive("devicehive.example.com")
				w.ready(tokenIssuer(w.ns, "dh-busy", apiIssuer(dh.URL(), adminCredentials)))
				w.issuerBusy(&dh.Faults, dhtest.KindLogin, func(n int) client.Object {
					return deviceAccessToken(w.ns, fmt.Sprintf("sensor-batch-%d", n), "dh-busy")
				})
			},
			"policyViolation": func(w *world) {
				policy := &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice"}}
				w.ready(tokenIssuer(w.ns, "dh-read-only", offlineIssuer(w.deviceHive("devicehive.example.com").URL(), policy)))
				dat := w.createOnly(deviceAccessToken(w.ns, "sensor-watcher", "dh-read-only"))
				w.stalledThenChanged("degraded_policyViolation", dat, tokensv1alpha1.PolicyViolationReason, `{"spec":{"actions":["GetDevice"]}}`)
			},
			"serverError": func(w *world) {
				dh := w.deviceHive("devicehive.example.com")
				w.ready(tokenIssuer(w.ns, "dh-down", apiIssuer(dh.URL(), adminCredentials)))
				dh.FailNext(1000)
				dat := w.createOnly(deviceAccessToken(w.ns, "sensor-exporter", "dh-down"))
				w.failingThenChanged(dat, `{"spec":{"accessTokenLifetime":"45m"}}`)
				w.issuingAfterFailure(dat, &dh.Faults, dhtest.KindCreate, `{"spec":{"accessTokenLifetime":"40m"}}`)
			},
		},
	}
}

// deviceAccessToken asks issuer for a pair of the client user that reads devices
// and their notifications on networks 1 and 3.
func deviceAccessToken(namespace, name, issuer string) *tokensv1alpha1.DeviceAccessToken {
	return &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: issuer},
			UserID:               dhUserID,
			Actions:              []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
			NetworkIDs:           []string{"1", "3"},
			DeviceTypeIDs:        []string{"*"},
			AccessTokenLifetime:  metav1.Duration{Duration: 30 * time.Minute},
			RefreshTokenLifetime: metav1.Duration{Duration: 168 * time.Hour},
			Secret:               tokensv1alpha1.SecretTemplate{Name: name + "-dh"},
		},
	}
}

// offlineIssuer signs pairs with the key in Secret signingKey.
func offlineIssuer(url string, policy *tokensv1alpha1.IssuerPolicy) tokensv1alpha1.TokenIssuerSpec {
	return tokensv1alpha1.TokenIssuerSpec{Policy: policy, DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
		URL: url, Mode: tokensv1alpha1.DeviceHiveModeOffline,
		SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: signingKey, Key: "secret"},
	}}
}

// apiIssuer mints pairs at DeviceHive, logged in with the Secret credentials.
func apiIssuer(url, credentials string) tokensv1alpha1.TokenIssuerSpec {
	return tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
		URL: url, Mode: tokensv1alpha1.DeviceHiveModeAPI,
		CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: credentials},
	}}
}

// deviceHiveLogin is a credentials Secret of the DeviceHive admin.
func deviceHiveLogin(namespace, name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		StringData: map[string]string{"login": dhAdminLogin, "password": password},
	}
}
