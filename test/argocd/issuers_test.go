package argocd

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokenIssuerTest brings TokenIssuers, each with a remote system of its own, into
// every state.
func tokenIssuerTest() kindTest {
	const namespace = "platform"
	return kindTest{
		kind:      "TokenIssuer",
		namespace: namespace,
		secrets:   []*corev1.Secret{deviceHiveLogin(namespace, staleCredentials, "an-old-password")},
		scenarios: issuerScenarios(func(name string, spec tokensv1alpha1.TokenIssuerSpec) client.Object {
			return tokenIssuer(namespace, name, spec)
		}),
	}
}

// clusterTokenIssuerTest brings ClusterTokenIssuers into every state; their
// Secrets are in the operator's namespace.
func clusterTokenIssuerTest() kindTest {
	return kindTest{
		kind:    "ClusterTokenIssuer",
		secrets: []*corev1.Secret{deviceHiveLogin(operatorNamespace, staleCredentials, "an-old-password")},
		scenarios: issuerScenarios(func(name string, spec tokensv1alpha1.TokenIssuerSpec) client.Object {
			return &tokensv1alpha1.ClusterTokenIssuer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
		}),
	}
}

// issuerScenarios are the scenarios of either issuer kind, whose objects issuer makes.
func issuerScenarios(issuer func(name string, spec tokensv1alpha1.TokenIssuerSpec) client.Object) map[string]func(w *world) {
	return map[string]func(w *world){
		// New, Ready, then a new generation.
		"lifecycle": func(w *world) {
			obj := issuer("awx-prod", awxIssuer(w.awx("awx.example.com").URL(), tokensv1alpha1.AWXAPIAuto))
			created := w.create(obj)
			w.capture("progressing_new", health{"Progressing", notReconciled(created)}, created)
			ready := w.await(obj, reconciled, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
			w.capture("healthy", health{"Healthy", messageOf(ready, tokensv1alpha1.ReadyCondition)}, ready)
			w.specChanged("progressing_newGeneration", obj, `{"spec":{"policy":{"allowedScopes":["read"]}}}`)
		},
		"signingKeyMissing": func(w *world) {
			spec := tokensv1alpha1.TokenIssuerSpec{Policy: deviceHivePolicy(), DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
				URL: w.deviceHive("devicehive.example.com").URL(), Mode: tokensv1alpha1.DeviceHiveModeOffline,
				SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: "dh-jwt-secret-not-yet", Key: "secret"},
			}}
			waiting := w.await(w.createOnly(issuer("devicehive-offline", spec)),
				hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.CredentialsNotFoundReason))
			w.capture("progressing_signingKeyMissing", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
		},
		"apiMismatch": func(w *world) {
			obj := w.createOnly(issuer("awx-gateway", awxIssuer(w.awx("awx.example.com").URL(), tokensv1alpha1.AWXAPIGateway)))
			w.stalledThenChanged("degraded_apiMismatch", obj, tokensv1alpha1.APIMismatchReason, `{"spec":{"awx":{"api":"Auto"}}}`)
		},
		"wrongPassword": func(w *world) {
			spec := apiIssuer(w.deviceHive("devicehive.example.com").URL(), staleCredentials)
			spec.Policy = deviceHivePolicy()
			stalled := w.await(w.createOnly(issuer("devicehive-api", spec)),
				hasCondition(tokensv1alpha1.StalledCondition, metav1.ConditionTrue, tokensv1alpha1.AuthenticationFailedReason))
			w.capture("degraded_wrongPassword", health{"Degraded", messageOf(stalled, tokensv1alpha1.StalledCondition)}, stalled)
		},
		"serverError": func(w *world) {
			awx := w.awx("awx.example.com")
			awx.FailNext(1000)
			obj := w.createOnly(issuer("awx-down", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
			w.failingThenChanged(obj, `{"spec":{"policy":{"allowedScopes":["read"]}}}`)
		},
	}
}

func tokenIssuer(namespace, name string, spec tokensv1alpha1.TokenIssuerSpec) *tokensv1alpha1.TokenIssuer {
	return &tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Spec: spec}
}

func awxIssuer(url string, api tokensv1alpha1.AWXAPI) tokensv1alpha1.TokenIssuerSpec {
	return tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: url, API: api}}
}

// deviceHivePolicy lets a DeviceHive issuer mint for the client user only, as a
// ClusterTokenIssuer must say.
func deviceHivePolicy() *tokensv1alpha1.IssuerPolicy {
	return &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{fmt.Sprint(dhUserID)}}
}
