package controllers

import (
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// ptEnv is one test's world: its own namespace, an AWX test server with the user
// ci-bot, a TokenIssuer "awx" pointing at it, and ci-bot's credentials Secret.
type ptEnv struct {
	tokenEnv
	awx *awxtest.Server
}

const (
	awxUser     = "ci-bot"
	awxPassword = "correct-horse-battery"
)

func newPTEnv(t *testing.T, flavor awxtest.Flavor, fake *clocktesting.FakeClock) *ptEnv {
	t.Helper()
	opts := awxtest.Options{Flavor: flavor}
	if fake != nil {
		opts.Clock = fake
	}
	e := &ptEnv{tokenEnv: newTokenEnv(t, fake), awx: awxtest.NewServer(t, opts)}
	t.Cleanup(func() { rememberTokenValues(e.awx) })
	e.awx.AddUser(awxtest.User{Username: awxUser, Password: awxPassword})
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx", Namespace: e.ns},
		Spec:       tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL(), API: tokensv1alpha1.AWXAPIAuto}},
	})
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "ci-bot-login", Namespace: e.ns},
		StringData: map[string]string{"username": awxUser, "password": awxPassword},
	})
	e.checkIssuer("awx")
	return e
}

// personalToken creates a PersonalToken for ci-bot with read and write scopes, in
// the Secret <name>-awx, after mutate.
func (e *ptEnv) personalToken(name string, mutate func(*tokensv1alpha1.PersonalToken)) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			User:                 awxUser,
			Scopes:               []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead, tokensv1alpha1.ScopeWrite},
			Description:          "test token " + name,
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name + "-awx"}},
		},
	}
	if mutate != nil {
		mutate(pt)
	}
	e.create(pt)
	return pt
}

// startManager runs the operator's PersonalToken controller for this namespace as
// a new operator process would: its own cache, client and event recorder.
func (e *ptEnv) startManager() (stop func()) {
	return e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		r := &PersonalTokenReconciler{TokenDeps: e.managerDeps(mgr, PersonalTokenControllerName)}
		return r.SetupWithManager(mgr, 2, credentials)
	})
}

// allowReadOnlyTokens has the issuer "awx" allow read-only tokens from now on,
// checked, so that a token asking for write stalls on PolicyViolation.
func (e *ptEnv) allowReadOnlyTokens() {
	e.t.Helper()
	issuer := &tokensv1alpha1.TokenIssuer{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: "awx"}, issuer); err != nil {
		e.t.Fatal(err)
	}
	issuer.Spec.Policy = &tokensv1alpha1.IssuerPolicy{AllowedScopes: []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead}}
	if err := k8sClient.Update(ctx, issuer); err != nil {
		e.t.Fatal(err)
	}
	e.checkIssuer("awx")
}

// manualReconciler returns a reconciler to drive by hand with c.
func (e *ptEnv) manualReconciler(c client.Client) *PersonalTokenReconciler {
	return &PersonalTokenReconciler{TokenDeps: e.manualDeps(c)}
}

// get reads pt afresh from the API server.
func (e *ptEnv) get(pt *tokensv1alpha1.PersonalToken) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	return getToken(e.t, pt)
}

// waitReady waits until the controller reports pt Ready for its current generation.
func (e *ptEnv) waitReady(pt *tokensv1alpha1.PersonalToken) *tokensv1alpha1.PersonalToken {
	e.t.Helper()
	return waitTokenReady(e.t, pt)
}

// expectOneLiveTokenInSecret asserts the invariant of the minting protocol: ci-bot
// has exactly one live token at AWX, it is pt's current token, and its Secret
// holds it.
func (e *ptEnv) expectOneLiveTokenInSecret(pt *tokensv1alpha1.PersonalToken, tokenKey string) {
	e.t.Helper()
	g := NewWithT(e.t)
	pt = e.get(pt)
	live := e.awx.LiveTokens(awxUser)
	g.Expect(live).To(HaveLen(1), "live tokens at AWX")
	g.Expect(live[0].ID).To(Equal(pt.Status.TokenID))
	secret := e.secret(pt.Spec.Secret.Name)
	g.Expect(secret).NotTo(BeNil())
	g.Expect(string(secret.Data[tokenKey])).To(Equal(live[0].Value), "the Secret holds the live token")
	g.Expect(pt.Status.PendingMint).To(BeNil())
}
