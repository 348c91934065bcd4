package argocd

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

const (
	awxUser        = "ci-bot"
	awxPassword    = "correct-horse-battery"
	awxCredentials = "ci-bot-login"
	// hang is how long a remote call the scenarios hold up lasts: long enough to
	// read the object while it waits, short enough for the server to close soon.
	hang = 5 * time.Second
)

// personalTokenTest brings PersonalTokens, each with an AWX and a TokenIssuer of
// its own, into every state.
func personalTokenTest() kindTest {
	const namespace = "ci"
	return kindTest{
		kind:      "PersonalToken",
		namespace: namespace,
		secrets: []*corev1.Secret{awxLogin(namespace, awxCredentials, awxPassword),
			awxLogin(namespace, batchCredentials(1), awxPassword), awxLogin(namespace, batchCredentials(2), awxPassword)},
		scenarios: map[string]func(w *world){
			// New, Ready, a new generation, then a rotation under way.
			"lifecycle": func(w *world) {
				awx := w.awx("awx.example.com")
				w.ready(tokenIssuer(w.ns, "awx", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
				pt := personalToken(w.ns, "ci-runner", "awx", awxCredentials)
				created := w.create(pt)
				w.capture("progressing_new", health{"Progressing", notReconciled(created)}, created)
				ready := w.await(pt, reconciled, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
				w.capture("healthy", health{"Healthy", messageOf(ready, tokensv1alpha1.ReadyCondition)}, ready)
				w.specChanged("progressing_newGeneration", pt, `{"spec":{"description":"CI runner of the release pipeline"}}`)
				w.await(pt, reconciled, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
				awx.DelayNext(awxtest.KindCreate, hang)
				w.patch(pt, `{"metadata":{"annotations":{"`+tokensv1alpha1.RotateAnnotation+`":"1"}}}`)
				rotating := w.await(pt, hasCondition(tokensv1alpha1.IssuingCondition, metav1.ConditionTrue, tokensv1alpha1.ManuallyTriggeredReason),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
				w.capture("progressing_rotating", health{"Progressing", messageOf(rotating, tokensv1alpha1.ReconcilingCondition)}, rotating)
			},
			"issuing": func(w *world) {
				awx := w.awx("awx.example.com")
				w.ready(tokenIssuer(w.ns, "awx-slow", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
				awx.DelayNext(awxtest.KindCreate, hang)
				issuing := w.await(w.createOnly(personalToken(w.ns, "ci-deployer", "awx-slow", awxCredentials)),
					hasCondition(tokensv1alpha1.IssuingCondition, metav1.ConditionTrue, tokensv1alpha1.DoesNotExistReason))
				w.capture("progressing_issuing", health{"Progressing", messageOf(issuing, tokensv1alpha1.ReconcilingCondition)}, issuing)
			},
			"issuerNotFound": func(w *world) {
				waiting := w.await(w.createOnly(personalToken(w.ns, "ci-nightly", "awx-not-yet", awxCredentials)),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.IssuerNotFoundReason))
				w.capture("progressing_issuerNotFound", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
			},
			// The issuer's own failure is its health; the token waits for it.
			"issuerNotReady": func(w *world) {
				w.await(w.createOnly(tokenIssuer(w.ns, "awx-gateway", awxIssuer(w.awx("awx.example.com").URL(), tokensv1alpha1.AWXAPIGateway))),
					hasCondition(tokensv1alpha1.StalledCondition, metav1.ConditionTrue, tokensv1alpha1.APIMismatchReason))
				waiting := w.await(w.createOnly(personalToken(w.ns, "ci-auditor", "awx-gateway", awxCredentials)),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.IssuerNotReadyReason),
					// Not "has not been checked yet", from a cache that had not seen the check.
					messageContains(tokensv1alpha1.ReadyCondition, tokensv1alpha1.APIMismatchReason))
				w.capture("progressing_issuerNotReady", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
			},
			"issuerBusy": func(w *world) {
				awx := w.awx("awx.example.com")
				w.ready(tokenIssuer(w.ns, "awx-busy", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
				// Tokens sharing credentials ask who they are once: the two
				// held up have credentials of their own.
				w.issuerBusy(&awx.Faults, awxtest.KindMe, func(n int) client.Object {
					return personalToken(w.ns, fmt.Sprintf("ci-batch-%d", n), "awx-busy", batchCredentials(n))
				})
			},
			"credentialsNotFound": func(w *world) {
				w.ready(tokenIssuer(w.ns, "awx-shared", awxIssuer(w.awx("awx.example.com").URL(), tokensv1alpha1.AWXAPIAuto)))
				waiting := w.await(w.createOnly(personalToken(w.ns, "ci-publisher", "awx-shared", "ci-publisher-login-not-yet")),
					hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.CredentialsNotFoundReason))
				w.capture("progressing_credentialsNotFound", health{"Progressing", messageOf(waiting, tokensv1alpha1.ReadyCondition)}, waiting)
			},
			// A create whose reply is lost fails the mint; the token AWX did
			// create may still be committed, so recovery waits before it acts.
			"lostReply": func(w *world) {
				awx := w.awx("awx.example.com")
				w.ready(tokenIssuer(w.ns, "awx-flaky", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
				awx.LoseNextReply(awxtest.KindCreate)
				pt := w.createOnly(personalToken(w.ns, "ci-backup", "awx-flaky", awxCredentials))
				failed := w.await(pt, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.RemoteErrorReason),
					hasCondition(tokensv1alpha1.IssuingCondition, metav1.ConditionTrue, ""))
				w.capture("degraded_mintFailed", health{"Degraded", messageOf(failed, tokensv1alpha1.ReadyCondition)}, failed)
				recovering := w.await(pt, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionFalse, tokensv1alpha1.RecoveringMintReason))
				w.capture("progressing_recoveringMint", health{"Progressing", messageOf(recovering, tokensv1alpha1.ReadyCondition)}, recovering)
			},
			"wrongPassword": func(w *world) {
				w.ready(tokenIssuer(w.ns, "awx-strict", awxIssuer(w.awx("awx.example.com").URL(), tokensv1alpha1.AWXAPIAuto)))
				w.createOnly(awxLogin(w.ns, "ci-bot-old-login", "an-old-password"))
				pt := w.createOnly(personalToken(w.ns, "ci-legacy", "awx-strict", "ci-bot-old-login"))
				w.stalledThenChanged("degraded_wrongPassword", pt, tokensv1alpha1.AuthenticationFailedReason,
					`{"spec":{"credentialsSecretRef":{"name":"`+awxCredentials+`"}}}`)
			},
			"serverError": func(w *world) {
				awx := w.awx("awx.example.com")
				w.ready(tokenIssuer(w.ns, "awx-down", awxIssuer(awx.URL(), tokensv1alpha1.AWXAPIAuto)))
				awx.FailNext(1000)
				pt := w.createOnly(personalToken(w.ns, "ci-reporter", "awx-down", awxCredentials))
				w.failingThenChanged(pt, `{"spec":{"description":"CI reporter"}}`)
				w.issuingAfterFailure(pt, &awx.Faults, awxtest.KindCreate, `{"spec":{"description":"CI reporter of the nightly builds"}}`)
			},
		},
	}
}

// batchCredentials names the credentials Secret of the issuerBusy scenario's
// token n: the third shares the usual one.
func batchCredentials(n int) string {
	if n < 3 {
		return fmt.Sprintf("ci-batch-%d-login", n)
	}
	return awxCredentials
}

// personalToken asks for a read and write token of ci-bot from the TokenIssuer
// issuer, with the credentials in Secret credentials.
func personalToken(namespace, name, issuer, credentials string) *tokensv1alpha1.PersonalToken {
	return &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: issuer},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: credentials},
			User:                 awxUser,
			Scopes:               []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead, tokensv1alpha1.ScopeWrite},
			Description:          "CI runner",
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name + "-awx"}},
		},
	}
}

// awxLogin is a credentials Secret of ci-bot.
func awxLogin(namespace, name, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		StringData: map[string]string{"username": awxUser, "password": password},
	}
}
