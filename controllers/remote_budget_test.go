package controllers

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
)

func TestRemoteBudget_WaitsForRoomPerIssuer(t *testing.T) {
	b := NewRemoteBudget(1)
	awx := resolvedIssuer{ref: tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "awx"}}
	cluster := resolvedIssuer{ref: tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.ClusterTokenIssuerKind, Name: "awx"}}
	release, err := b.take(ctx, "team-a", awx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.take(ctx, "team-b", awx); err != nil {
		t.Errorf("team-b's awx is another issuer: %v", err)
	}
	if _, err := b.take(ctx, "team-a", cluster); err != nil {
		t.Errorf("the ClusterTokenIssuer awx is another issuer: %v", err)
	}
	start := time.Now()
	if _, err := b.take(ctx, "team-a", awx); !isIssuerBusy(err) {
		t.Errorf("team-a's awx is full, yet take gave %v", err)
	}
	if waited := time.Since(start); waited < waitForRoom {
		t.Errorf("a full issuer was given up after %s, before waitForRoom", waited)
	}
	go func() {
		time.Sleep(waitForRoom / 5)
		release()
	}()
	if _, err := b.take(ctx, "team-a", awx); err != nil {
		t.Errorf("room freed while waiting is taken: %v", err)
	}
}

// An issuer whose server hangs holds no more workers than its budget: a token
// of another issuer, created after a queue of stuck ones, is minted at once.
func TestPersonalTokenReconciler_AHangingIssuerDoesNotStarveTheOthers(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	hanging := e.newAWXServer()
	e.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Name: "awx-hanging", Namespace: e.ns},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: hanging.URL()}}})
	const remoteTimeout = 3 * time.Second
	e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		deps := e.managerDeps(mgr, PersonalTokenControllerName)
		deps.RemoteTimeout, deps.Budget = remoteTimeout, NewRemoteBudget(1)
		return (&PersonalTokenReconciler{TokenDeps: deps}).SetupWithManager(mgr, 2, credentials)
	})
	e.waitIssuerReady("awx-hanging")
	hanging.SetDelay(remoteTimeout + time.Second)
	for i := range 4 {
		e.personalToken(fmt.Sprintf("stuck-%d", i), func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.IssuerRef.Name = "awx-hanging" })
	}
	g.Eventually(func() int { return hanging.TotalCalls() }).Should(BeNumerically(">", 0), "a stuck token holds a worker")

	fast := e.personalToken("fast", nil)
	g.Eventually(func(g Gomega) {
		got := &tokensv1alpha1.PersonalToken{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(fast), got)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, tokensv1alpha1.ReadyCondition)).To(BeTrue())
	}).WithTimeout(remoteTimeout-time.Second).WithPolling(50*time.Millisecond).Should(Succeed(),
		"minted while the hanging issuer's calls time out")
	stuck := &tokensv1alpha1.PersonalToken{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: "stuck-3"}, stuck)).To(Succeed())
	g.Expect(meta.FindStatusCondition(stuck.Status.Conditions, tokensv1alpha1.ReadyCondition)).To(
		Or(BeNil(), HaveField("Status", metav1.ConditionFalse)))
}
