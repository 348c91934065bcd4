package controllers

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

// GitOps tools read a token's health with kstatus: Current when Ready, InProgress
// while a token is being issued (or its mint was interrupted), Failed when
// stalled until the user acts. The issuers' states are in issuer_controller_test.go.
func TestPersonalToken_Kstatus(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: "awx-read-only", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: e.awx.URL()},
			Policy: &tokensv1alpha1.IssuerPolicy{AllowedScopes: []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead}}},
	})
	e.checkIssuer("awx-read-only")
	r := e.manualReconciler(k8sClient)
	r.RemoteTimeout = time.Second // recovery waits twice this long for a create to end

	current := e.personalToken("current", nil)
	_, err := e.reconcile(r, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.CurrentStatus))

	// A rotation whose mint has an unknown outcome until recovery finds it.
	rotate(g, e.get(current))
	e.awx.LoseNextReply(awxtest.KindCreate)
	_, err = e.reconcile(r, current)
	g.Expect(err).To(HaveOccurred())
	g.Expect(e.get(current).Status.PendingMint).NotTo(BeNil())
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.InProgressStatus))
	result, err := e.reconcile(r, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(result.RequeueAfter).To(BeNumerically(">", 0), "looks again once the create cannot be running any more")
	g.Expect(e.get(current).Status.PendingMint).NotTo(BeNil(), "the lost token may still be in flight")
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.InProgressStatus))
	time.Sleep(lateCommitWindow(r.RemoteTimeout))
	_, err = e.reconcile(r, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.CurrentStatus), "recovered")

	stalled := e.personalToken("stalled", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.IssuerRef.Name = "awx-read-only" })
	_, err = e.reconcile(r, stalled)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(stalled))).To(Equal(kstatus.FailedStatus))
}

func TestDeviceAccessToken_Kstatus(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newDATEnv(t, clk)
	r := e.manualReconciler(k8sClient)

	current := e.deviceAccessToken("current", dhOfflineIssuer, nil)
	_, err := e.reconcile(r, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.CurrentStatus))

	// A rotation whose process dies between signing the pair and writing it.
	rotate(g, e.get(current))
	clk.Step(time.Minute) // a pair signed in another second differs from the held one
	var dead atomic.Bool
	_, _ = e.reconcile(e.manualReconciler(dieAt(false, func(obj client.Object) bool {
		secret, ok := obj.(*corev1.Secret)
		return ok && secret.Name == "current-dh"
	}, &dead)), current)
	g.Expect(dead.Load()).To(BeTrue(), "the crash point was reached")
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.InProgressStatus))
	_, err = e.reconcile(r, current)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(current))).To(Equal(kstatus.CurrentStatus), "minted again")

	stalled := e.deviceAccessToken("stalled", dhOfflineIssuer, func(dat *tokensv1alpha1.DeviceAccessToken) {
		dat.Spec.NetworkIDs = []string{"*"}
	})
	_, err = e.reconcile(r, stalled)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(kstatusOf(g, e.get(stalled))).To(Equal(kstatus.FailedStatus))
}

// rotate asks for a rotation of token with the rotate annotation.
func rotate(g Gomega, token client.Object) { rotateAt(g, token, "now") }

// rotateAt asks for a rotation of token with the rotate annotation's value at,
// whatever the token's annotations in hand.
func rotateAt(g Gomega, token client.Object, at string) {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, tokensv1alpha1.RotateAnnotation, at)
	g.Expect(k8sClient.Patch(ctx, token.DeepCopyObject().(client.Object), client.RawPatch(types.MergePatchType, patch))).To(Succeed())
}
