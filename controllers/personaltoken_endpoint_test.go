package controllers

import (
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// newAWXServer starts another AWX test server with ci-bot, and users.
func (e *ptEnv) newAWXServer(users ...awxtest.User) *awxtest.Server {
	srv := awxtest.NewServer(e.t, awxtest.Options{Flavor: awxtest.FlavorController})
	e.t.Cleanup(func() { rememberTokenValues(srv) })
	for _, u := range append(users, awxtest.User{Username: awxUser, Password: awxPassword}) {
		srv.AddUser(u)
	}
	return srv
}

// moveIssuer points the TokenIssuer "awx" at url, and checks it there.
func (e *ptEnv) moveIssuer(url string) {
	e.t.Helper()
	issuer := &tokensv1alpha1.TokenIssuer{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: "awx"}, issuer); err != nil {
		e.t.Fatal(err)
	}
	issuer.Spec.AWX.URL = url
	if err := k8sClient.Update(ctx, issuer); err != nil {
		e.t.Fatal(err)
	}
	e.checkIssuer("awx")
}

// A token id means something only at the server that minted it: when the
// issuer moves to another server, a token is minted there, and the old one is
// revoked at the old server, never by its id at the new one.
func TestPersonalTokenReconciler_AnIssuerThatMovesMintsAnewAndRevokesWhereItMinted(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("moving", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	old := e.get(pt)
	g.Expect(old.Status.Endpoint).To(Equal(&tokensv1alpha1.AWXEndpoint{URL: e.awx.URL(), API: tokensv1alpha1.AWXAPIController}))

	// The new server has a token of someone else's with the same id.
	moved := e.newAWXServer(awxtest.User{Username: "someone-else", Password: "someone-else-password"})
	bystander := (&ptEnv{tokenEnv: e.tokenEnv, awx: moved}).mintAs("someone-else", "someone-else-password", "theirs")
	g.Expect(bystander).To(Equal(old.Status.TokenID), "the same id, another token")

	e.moveIssuer(moved.URL())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())

	got := e.get(pt)
	g.Expect(got.Status.Endpoint.URL).To(Equal(moved.URL()), "minted at the new server")
	g.Expect(moved.LiveTokens("someone-else")).To(HaveLen(1), "the bystander's token with the same id is untouched")
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty(), "the old token is revoked at the server that minted it")
	live := moved.LiveTokens(awxUser)
	g.Expect(live).To(HaveLen(1))
	secret := e.secret("moving-awx")
	g.Expect(string(secret.Data["CONTROLLER_HOST"])).To(Equal(moved.URL()))
	g.Expect(string(secret.Data["CONTROLLER_OAUTH_TOKEN"])).To(Equal(live[0].Value), "host and token change together")
}

// A token minted before endpoints were recorded was minted where its Secret's
// host says: a move of the issuer is seen, and the old token revoked there.
func TestPersonalTokenReconciler_ATokenFromBeforeEndpointsFollowsAMoveToo(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	r := e.manualReconciler(k8sClient)
	pt := e.personalToken("legacy", nil)
	_, err := e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	legacy := e.get(pt)
	legacy.Status.Endpoint = nil
	g.Expect(k8sClient.Status().Update(ctx, legacy)).To(Succeed())

	moved := e.newAWXServer()
	e.moveIssuer(moved.URL())
	_, err = e.reconcile(r, pt)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(pt).Status.Endpoint.URL).To(Equal(moved.URL()))
	g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty(), "revoked at the server its Secret named")
	g.Expect(moved.LiveTokens(awxUser)).To(HaveLen(1))
}
