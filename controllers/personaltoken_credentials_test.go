package controllers

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// Tokens sharing a credentials Secret ask AWX who it belongs to once per
// version of the Secret, not once per mint; a new version is read and asked
// about again.
func TestPersonalTokens_SharedCredentialsAreIdentifiedOncePerVersion(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.awx.ResetCalls()
	defer e.startManager()()
	// The new process checks the issuer first, without credentials.
	g.Eventually(func() int { return e.awx.Calls(awxtest.KindMe) }, 20*time.Second).Should(Equal(1))

	tokens := make([]*tokensv1alpha1.PersonalToken, 4)
	for i := range tokens {
		tokens[i] = e.waitReady(e.personalToken(fmt.Sprintf("shared-%d", i), nil))
	}
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(4))
	g.Expect(e.awx.Calls(awxtest.KindMe)).To(Equal(2), "who ci-bot-login belongs to, asked once for 4 mints")

	// A wrong password is a new version: a mint once the operator has seen it
	// fails, where the last version's user and password would have passed.
	e.setCredentials(awxPassword + "-wrong")
	g.Eventually(func() string {
		rotateAt(g, tokens[0], time.Now().Format(time.RFC3339Nano))
		return readyReason(t, tokens[0])
	}, 20*time.Second, 200*time.Millisecond).Should(Equal(tokensv1alpha1.AuthenticationFailedReason))

	e.setCredentials(awxPassword)
	rotateAt(g, tokens[1], "after the fix")
	g.Eventually(func() string { return e.get(tokens[1]).Status.LastHandledRotateAt }, 20*time.Second).Should(Equal("after the fix"))
	g.Eventually(func() string { return readyReason(t, tokens[0]) }, 20*time.Second).ShouldNot(
		Equal(tokensv1alpha1.AuthenticationFailedReason), "the fixed Secret is read")

	// A failed create forgets what was learnt: the next attempt asks AWX who the
	// credentials are before it writes an intent again, and fails there while
	// AWX is down.
	asked := e.awx.Calls(awxtest.KindMe)
	e.awx.FailNext(1)
	rotateAt(g, tokens[2], "after a failed create")
	g.Eventually(func() string { return e.get(tokens[2]).Status.LastHandledRotateAt }, 20*time.Second).Should(Equal("after a failed create"))
	g.Expect(e.awx.Calls(awxtest.KindMe)).To(BeNumerically(">", asked), "asked again after the failed create")
}

// Tokens minted at once by several workers wait for one of them to read the
// credentials they share and ask AWX who they are, rather than each asking.
func TestPersonalTokens_TokensMintedAtOnceAskWhoTheCredentialsAreOnce(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.awx.ResetCalls()
	// Slow enough that both workers need the credentials while AWX is asked.
	e.awx.SetDelay(200 * time.Millisecond)
	tokens := make([]*tokensv1alpha1.PersonalToken, 6)
	for i := range tokens {
		tokens[i] = e.personalToken(fmt.Sprintf("together-%d", i), nil)
	}
	defer e.startManager()()
	for _, pt := range tokens {
		e.waitReady(pt)
	}
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(6))
	g.Expect(e.awx.Calls(awxtest.KindMe)).To(Equal(2), "the issuer's check, and who ci-bot-login belongs to, asked once for 6 mints by 2 workers")
}

// A credentials Secret fixed while a token asks AWX who the broken ones
// belong to: the tokens the fix wakes read the fixed Secret, rather than wait
// for the answer about the broken one and stall on it.
func TestPersonalTokens_AFixDuringAnotherTokensCheckIsRead(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.setCredentials(awxPassword + "-wrong")
	defer e.startManager()()
	first, second := e.personalToken("first", nil), e.personalToken("second", nil)
	for _, pt := range []*tokensv1alpha1.PersonalToken{first, second} {
		g.Eventually(func() string { return readyReason(t, pt) }, 20*time.Second).Should(Equal(tokensv1alpha1.AuthenticationFailedReason))
	}

	asked := e.awx.Calls(awxtest.KindMe)
	// Slow, within the operator's 5 s remote timeout: the answer is a refusal.
	e.awx.DelayNext(awxtest.KindMe, 3*time.Second)
	rotateAt(g, first, "asks slowly")
	g.Eventually(func() int { return e.awx.Calls(awxtest.KindMe) }, 20*time.Second).Should(BeNumerically(">", asked))
	e.setCredentials(awxPassword)
	// Well before the 10 minutes after which refused credentials are tried again.
	e.waitReady(second)
	e.waitReady(first)
}

// setCredentials writes ci-bot's credentials Secret with password.
func (e *ptEnv) setCredentials(password string) {
	e.t.Helper()
	secret := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: "ci-bot-login"}, secret); err != nil {
		e.t.Fatal(err)
	}
	secret.Data["password"] = []byte(password)
	if err := k8sClient.Update(ctx, secret); err != nil {
		e.t.Fatal(err)
	}
}

// readyReason is the reason of pt's Ready condition as the API server has it.
func readyReason(t *testing.T, pt *tokensv1alpha1.PersonalToken) string {
	t.Helper()
	if c := meta.FindStatusCondition(getToken(t, pt).Status.Conditions, tokensv1alpha1.ReadyCondition); c != nil {
		return c.Reason
	}
	return ""
}
