package controllers

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	clocktesting "k8s.io/utils/clock/testing"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// A DeviceHive pair cannot be revoked, but a workload that read the previous one
// through env still needs the new one.
func TestDeviceAccessTokenConsumers_EnvConsumerIsRestartedForANewPair(t *testing.T) {
	g := NewWithT(t)
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC))
	e := newDATEnv(t, clk)
	e.manualReconciler(k8sClient) // checks the issuer
	events := &eventLog{}
	r := &DeviceAccessTokenReconciler{TokenDeps: e.deps(k8sClient, k8sClient, events), OperatorNamespace: e.ns}
	e.deployment(e.ns, "sensor", envFrom("pair-dh"))
	dat := e.deviceAccessToken("pair", dhAPIIssuer, nil)

	_, err := e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.getDeployment(e.ns, "sensor").Generation).To(Equal(int64(1)), "the first pair replaces none")

	// When 33% of its 30m is left, the pair is renewed.
	clk.Step(1206 * time.Second)
	result, err := e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.get(dat).Status.Revision).To(Equal(int64(2)))
	g.Expect(result.RequeueAfter).To(Equal(DefaultConsumerSettings.RestartWindow))

	clk.Step(DefaultConsumerSettings.RestartWindow)
	_, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	sensor := e.getDeployment(e.ns, "sensor")
	g.Expect(sensor.Generation).To(Equal(int64(2)), "restarted to load the new pair")
	g.Expect(sensor.Spec.Template.Annotations).To(HaveKeyWithValue(tokensv1alpha1.RestartedForAnnotation,
		"pair-dh="+e.get(dat).Status.SecretVersion))
	g.Expect(events.with(tokensv1alpha1.ConsumersRestartedReason)).To(ConsistOf(ContainSubstring("Deployment/sensor")))

	e.finishRollout(e.ns, "sensor")
	clk.Step(DefaultConsumerSettings.PollInterval)
	_, err = e.reconcile(r, dat)
	g.Expect(err).NotTo(HaveOccurred())
	got := e.get(dat)
	g.Expect(got.Status.Consumers).To(ConsistOf(HaveField("RolledOut", true)))
	g.Expect(got.Status.Conditions).To(ContainElement(And(
		HaveField("Type", tokensv1alpha1.ConsumersUpdatedCondition), HaveField("Reason", tokensv1alpha1.RolledOutReason))))
}
