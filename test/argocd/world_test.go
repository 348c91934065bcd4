package argocd

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// world is one scenario: the test servers it started and the states it captured.
type world struct {
	t    *testing.T
	kind string
	ns   string
	// hosts maps the test servers' URLs to the stable ones the fixtures show.
	hosts  map[string]string
	states []state
}

// state is an object the operator brought into one state, as Argo CD reads it,
// with the health its script must report.
type state struct {
	// fixture names the testdata file: <status>_<what>.yaml, as Argo CD's are named.
	fixture string
	want    health
	obj     *unstructured.Unstructured
	hosts   map[string]string
}

// capture checks that the kind's script reports want for obj, and keeps obj as
// the fixture of that state.
func (w *world) capture(fixture string, want health, obj *unstructured.Unstructured) {
	w.t.Helper()
	got, err := runHealth(w.kind, obj.Object)
	NewWithT(w.t).Expect(err).NotTo(HaveOccurred())
	NewWithT(w.t).Expect(got).To(Equal(want), "%s, conditions: %v", fixture, conditions(obj))
	w.states = append(w.states, state{fixture: fixture, want: want, obj: obj, hosts: w.hosts})
}

// create creates obj and returns the object the API server answered with: what
// Argo CD reads before the operator has seen it.
func (w *world) create(obj client.Object) *unstructured.Unstructured {
	w.t.Helper()
	u := toUnstructured(w.t, obj)
	NewWithT(w.t).Expect(k8sClient.Create(ctx, u)).To(Succeed())
	return u
}

// createOnly creates obj and returns it, for a scenario that reads it later.
func (w *world) createOnly(obj client.Object) client.Object {
	w.t.Helper()
	NewWithT(w.t).Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	return obj
}

// ready creates an issuer and waits until its check has passed.
func (w *world) ready(issuer client.Object) {
	w.t.Helper()
	w.await(w.createOnly(issuer), reconciled, hasCondition(tokensv1alpha1.ReadyCondition, metav1.ConditionTrue, ""))
}

// patch applies a JSON merge patch to obj and returns the object the API server
// answered with.
func (w *world) patch(obj client.Object, patch string) *unstructured.Unstructured {
	w.t.Helper()
	u := reference(w.t, obj)
	NewWithT(w.t).Expect(k8sClient.Patch(ctx, u, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
	return u
}

// await reads obj until it passes every check, and returns it.
func (w *world) await(obj client.Object, checks ...check) *unstructured.Unstructured {
	w.t.Helper()
	var u *unstructured.Unstructured
	NewWithT(w.t).Eventually(func(g Gomega) {
		u = reference(w.t, obj)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), u)).To(Succeed())
		for _, c := range checks {
			c(g, u)
		}
	}).WithTimeout(testenv.Wait).WithPolling(10 * time.Millisecond).Should(Succeed())
	return u
}

// toUnstructured converts obj, with its apiVersion and kind, to what a dynamic
// client reads.
func toUnstructured(t *testing.T, obj client.Object) *unstructured.Unstructured {
	t.Helper()
	g := NewWithT(t)
	gvk, err := apiutil.GVKForObject(obj, k8sClient.Scheme())
	g.Expect(err).NotTo(HaveOccurred())
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	return u
}

// reference is an empty object of obj's kind, name and namespace, to read into.
func reference(t *testing.T, obj client.Object) *unstructured.Unstructured {
	t.Helper()
	gvk, err := apiutil.GVKForObject(obj, k8sClient.Scheme())
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	u.SetName(obj.GetName())
	u.SetNamespace(obj.GetNamespace())
	return u
}

// awx starts an AWX with the user ci-bot, which the fixtures show at host.
func (w *world) awx(host string) *awxtest.Server {
	s := awxtest.NewServer(w.t, awxtest.Options{})
	s.AddUser(awxtest.User{Username: awxUser, Password: awxPassword})
	w.hosts[s.URL()] = "https://" + host
	return s
}

// deviceHive starts a DeviceHive with an admin (id 1) and a client user (id 2),
// which the fixtures show at host.
func (w *world) deviceHive(host string) *dhtest.Server {
	s := dhtest.NewServer(w.t, dhtest.Options{Secret: dhJWTSecret})
	s.AddUser(dhtest.User{ID: 1, Login: dhAdminLogin, Password: dhAdminPassword, Active: true, Admin: true})
	s.AddUser(dhtest.User{ID: dhUserID, Login: "sensor-reader", Password: "sensor-reader-password", Active: true})
	w.hosts[strings.TrimSuffix(s.URL(), "/auth/rest")] = "https://" + host
	return s
}
