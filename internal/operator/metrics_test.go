package operator

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// TestMetrics runs the operator binary with its default metrics flags (HTTPS,
// authenticated and authorized by the API server) and scrapes it as Prometheus
// would, with a ServiceAccount bound to config/rbac's metrics-reader role. The
// per-token series must match the tokens' status through a mint, a rotation and
// a revocation, and go when the token goes.
func TestMetrics(t *testing.T) {
	w := newProcessWorld(t)
	metricsAddr := freeLoopbackAddr(t)
	w.start("the operator", "--metrics-bind-address="+metricsAddr)
	scrape := scraper(metricsAddr)

	t.Run("refuses a caller the API server does not authenticate, or does not authorize", func(t *testing.T) {
		g := NewWithT(t)
		g.Eventually(func() (int, error) { code, _, err := scrape(""); return code, err }).
			WithTimeout(testenv.Wait).Should(Equal(http.StatusUnauthorized))
		code, body, err := scrape("not-a-token")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusUnauthorized))
		g.Expect(string(body)).NotTo(ContainSubstring("tokenoperator_"))
		code, _, err = scrape(w.serviceAccountToken("no-metrics-role", false))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusForbidden))
	})
	prometheus := w.serviceAccountToken("prometheus", true)
	families := func(g Gomega) map[string]*dto.MetricFamily {
		code, body, err := scrape(prometheus)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(code).To(Equal(http.StatusOK))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		mf, err := parser.TextToMetricFamilies(bytes.NewReader(body))
		g.Expect(err).NotTo(HaveOccurred())
		return mf
	}

	w.deviceHive()
	pt := w.personalToken("ci-runner", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Spec.Rotation = &tokensv1alpha1.Rotation{Overlap: &metav1.Duration{Duration: time.Second}}
		pt.Spec.Consumers = &tokensv1alpha1.Consumers{MaxOverlap: &metav1.Duration{Duration: 5 * time.Second}}
	})
	dat := w.deviceAccessToken("sensor")
	ptLabels := map[string]string{"kind": "PersonalToken", "namespace": w.ns, "name": pt.Name, "issuer_kind": "TokenIssuer", "issuer_name": "awx"}
	datLabels := map[string]string{"kind": "DeviceAccessToken", "namespace": w.ns, "name": dat.Name, "issuer_kind": "TokenIssuer", "issuer_name": "dh-api"}

	t.Run("per-token series show each token's status", func(t *testing.T) {
		for _, tok := range []struct {
			obj    tokenObject
			labels map[string]string
		}{{pt, ptLabels}, {dat, datLabels}} {
			NewWithT(t).Eventually(func(g Gomega) {
				status := w.readyStatus(g, tok.obj)
				mf := families(g)
				g.Expect(value(mf, "tokenoperator_token_expiration_timestamp_seconds", tok.labels)).
					To(BeNumerically("~", float64(status.ExpiresAt.Unix()), 1))
				g.Expect(value(mf, "tokenoperator_token_renewal_timestamp_seconds", tok.labels)).
					To(BeNumerically("~", float64(status.RenewalTime.Unix()), 1))
				g.Expect(value(mf, "tokenoperator_token_ready_status", with(tok.labels, "condition", "True"))).To(Equal(1.0))
				g.Expect(value(mf, "tokenoperator_token_ready_status", with(tok.labels, "condition", "False"))).To(Equal(0.0))
				g.Expect(value(mf, "tokenoperator_token_previous_pending", tok.labels)).To(Equal(0.0))
			}).WithTimeout(testenv.Wait).Should(Succeed())
		}
	})

	t.Run("a rotation and a revocation are counted", func(t *testing.T) {
		g := NewWithT(t)
		// A Pod reading the Secret holds the replaced token until maxOverlap.
		w.create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "runner"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "runner", Image: "runner", EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: pt.Spec.Secret.Name}}}}}}}})
		w.rotate(pt)
		g.Eventually(func(g Gomega) {
			got := &tokensv1alpha1.PersonalToken{}
			g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(pt), got)).To(Succeed())
			g.Expect(got.Status.PreviousTokens).To(HaveLen(1))
			mf := families(g)
			g.Expect(value(mf, "tokenoperator_token_previous_pending", ptLabels)).To(Equal(1.0))
			g.Expect(value(mf, "tokenoperator_token_previous_revocation_due_timestamp_seconds", ptLabels)).
				To(BeNumerically("~", float64(got.Status.PreviousTokens[0].RevokeBy.Unix()), 1))
		}).WithTimeout(testenv.Wait).Should(Succeed(), "the replaced token waits for the Pod until its revokeBy")
		g.Eventually(func(g Gomega) {
			got := &tokensv1alpha1.PersonalToken{}
			g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(pt), got)).To(Succeed())
			g.Expect(got.Status.Revision).To(Equal(int64(2)))
			g.Expect(got.Status.PreviousTokens).To(BeEmpty(), "the replaced token is revoked after its overlap")
			mf := families(g)
			g.Expect(value(mf, "tokenoperator_mints_total", map[string]string{"kind": "PersonalToken", "reason": "DoesNotExist"})).To(Equal(1.0))
			g.Expect(value(mf, "tokenoperator_mints_total", map[string]string{"kind": "PersonalToken", "reason": "ManuallyTriggered"})).To(Equal(1.0))
			g.Expect(value(mf, "tokenoperator_mints_total", map[string]string{"kind": "DeviceAccessToken", "reason": "DoesNotExist"})).To(Equal(1.0))
			g.Expect(value(mf, "tokenoperator_revocations_total", map[string]string{"kind": "PersonalToken", "result": "revoked"})).To(Equal(1.0))
			g.Expect(value(mf, "tokenoperator_token_previous_pending", ptLabels)).To(Equal(0.0))
			g.Expect(series(mf, "tokenoperator_token_previous_revocation_due_timestamp_seconds", ptLabels)).To(BeEmpty())
			g.Expect(mf).To(HaveKey("tokenoperator_orphans_revoked_total"))
			g.Expect(mf).To(HaveKey("tokenoperator_consumer_restarts_total"))
			g.Expect(value(mf, "tokenoperator_issuer_ready_status", map[string]string{"kind": "TokenIssuer", "namespace": w.ns, "name": "awx", "condition": "True"})).To(Equal(1.0))
			for _, remote := range []map[string]string{
				{"system": "awx", "operation": "create_token", "code": "201"},
				{"system": "awx", "operation": "delete_token", "code": "204"},
				{"system": "devicehive", "operation": "create_token", "code": "201"},
			} {
				g.Expect(value(mf, "tokenoperator_remote_requests_total", remote)).To(BeNumerically(">=", 1), "%v", remote)
			}
			g.Expect(histogramCount(mf, "tokenoperator_remote_request_duration_seconds", map[string]string{"system": "awx", "operation": "create_token"})).
				To(BeNumerically(">=", 2))
		}).WithTimeout(testenv.Wait).Should(Succeed())
	})

	t.Run("a deleted token's series go", func(t *testing.T) {
		g := NewWithT(t)
		g.Expect(w.c.Delete(context.Background(), pt)).To(Succeed())
		g.Eventually(func(g Gomega) {
			mf := families(g)
			for _, name := range []string{"tokenoperator_token_expiration_timestamp_seconds", "tokenoperator_token_renewal_timestamp_seconds",
				"tokenoperator_token_ready_status", "tokenoperator_token_previous_pending"} {
				g.Expect(series(mf, name, map[string]string{"name": pt.Name})).To(BeEmpty(), name)
				g.Expect(series(mf, name, map[string]string{"name": dat.Name})).NotTo(BeEmpty(), name)
			}
		}).WithTimeout(testenv.Wait).Should(Succeed())
	})
}

// tokenObject is a token of either kind.
type tokenObject interface {
	client.Object
	GetTokenStatus() *tokensv1alpha1.TokenStatus
}

// readyStatus reads obj and expects it Ready with a token minted.
func (w *processWorld) readyStatus(g Gomega, obj tokenObject) *tokensv1alpha1.TokenStatus {
	got := obj.DeepCopyObject().(tokenObject)
	g.Expect(w.c.Get(context.Background(), client.ObjectKeyFromObject(obj), got)).To(Succeed())
	status := got.GetTokenStatus()
	g.Expect(status.Conditions).To(ContainElement(And(
		HaveField("Type", tokensv1alpha1.ReadyCondition), HaveField("Status", metav1.ConditionTrue))))
	g.Expect(status.ExpiresAt).NotTo(BeNil())
	g.Expect(status.RenewalTime).NotTo(BeNil())
	return status
}

// rotate asks for a new token with the rotate annotation.
func (w *processWorld) rotate(obj client.Object) {
	w.t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, tokensv1alpha1.RotateAnnotation, time.Now().UTC().Format(time.RFC3339)))
	if err := w.c.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		w.t.Fatal(err)
	}
}

// deviceHive starts a DeviceHive test server with an admin the issuer "dh-api"
// mints through, and a user id 2 to mint for.
func (w *processWorld) deviceHive() {
	dh := dhtest.NewServer(w.t, dhtest.Options{Secret: "bWV0cmljcyB0ZXN0IEpXVCBzZWNyZXQgZm9yIERldmljZUhpdmU="})
	dh.AddUser(dhtest.User{ID: 1, Login: "dh-admin", Password: "dh-admin-pw-metrics", Active: true, Admin: true})
	dh.AddUser(dhtest.User{ID: 2, Login: "sensor-reader", Password: "unused-pw-metrics", Active: true})
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "dh-admin"},
		StringData: map[string]string{"login": "dh-admin", "password": "dh-admin-pw-metrics"}})
	w.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "dh-api"},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{URL: dh.URL(),
			Mode: tokensv1alpha1.DeviceHiveModeAPI, CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: "dh-admin"}}}})
}

// deviceAccessToken creates a DeviceAccessToken of "dh-api" for user 2.
func (w *processWorld) deviceAccessToken(name string) *tokensv1alpha1.DeviceAccessToken {
	dat := &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "dh-api"},
			UserID:               2,
			Actions:              []tokensv1alpha1.DeviceHiveAction{"GetDevice"},
			NetworkIDs:           []string{"1"},
			DeviceTypeIDs:        []string{"*"},
			AccessTokenLifetime:  metav1.Duration{Duration: 30 * time.Minute},
			RefreshTokenLifetime: metav1.Duration{Duration: 24 * time.Hour},
			Secret:               tokensv1alpha1.SecretTemplate{Name: name + "-dh"},
		},
	}
	w.create(dat)
	return dat
}

// serviceAccountToken creates ServiceAccount name, bound to config/rbac's
// metrics-reader ClusterRole when bound, and returns a token of it.
func (w *processWorld) serviceAccountToken(name string, bound bool) string {
	w.t.Helper()
	return serviceAccountToken(w.t, w.c, w.ns, name, bound)
}

// serviceAccountToken creates ServiceAccount name in ns, bound to config/rbac's
// metrics-reader ClusterRole when bound, and returns a token of it.
func serviceAccountToken(t *testing.T, c client.Client, ns, name string, bound bool) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	objects := []client.Object{sa}
	if bound {
		role := &rbacv1.ClusterRole{}
		raw, err := os.ReadFile("../../config/rbac/metrics_reader_role.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(raw, role); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, role, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-metrics-reader"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}}})
	}
	for _, obj := range objects {
		if err := c.Create(ctx, obj); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	req := &authenticationv1.TokenRequest{}
	if err := c.SubResource("token").Create(ctx, sa, req); err != nil {
		t.Fatal(err)
	}
	return req.Status.Token
}
