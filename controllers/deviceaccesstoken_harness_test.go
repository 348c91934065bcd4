package controllers

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// datEnv is one DeviceAccessToken test's world: its own namespace, a DeviceHive
// test server with an admin (id 1) and a client user (id 2), and two TokenIssuers
// for it: "dh-offline" (signs with the server's JWT secret) and "dh-api" (mints
// with /token/create, logged in as the admin).
type datEnv struct {
	tokenEnv
	dh  *dhtest.Server
	url string // what the issuers name: a recording proxy in front of dh
}

const (
	// dhJWTSecret is the test server's JWT secret, canonical Base64 as a real
	// deployment's JWT_SECRET would be.
	dhJWTSecret       = "dG9rZW4tb3BlcmF0b3IgdGVzdCBKV1Qgc2VjcmV0IGZvciBEZXZpY2VIaXZl"
	dhAdminID         = int64(1)
	dhAdminLogin      = "dh-admin"
	dhAdminPassword   = "dh-admin-pw-Qx7v2Lr9"
	dhClientUserID    = int64(2)
	dhClientUserLogin = "sensor-reader"
	dhOfflineIssuer   = "dh-offline"
	dhAPIIssuer       = "dh-api"
	dhSigningSecret   = "dh-jwt-secret"
	dhAdminSecret     = "dh-admin"
)

func newDATEnv(t *testing.T, fake *clocktesting.FakeClock) *datEnv {
	t.Helper()
	opts := dhtest.Options{Secret: dhJWTSecret}
	if fake != nil {
		opts.Clock = fake
	}
	e := &datEnv{tokenEnv: newTokenEnv(t, fake), dh: dhtest.NewServer(t, opts)}
	e.url = recordingProxy(t, e.dh.URL(), nil)
	rememberDeviceHiveValues(dhJWTSecret, dhAdminPassword)
	t.Cleanup(e.rememberSecretValues)
	e.dh.AddUser(dhtest.User{ID: dhAdminID, Login: dhAdminLogin, Password: dhAdminPassword, Active: true, Admin: true})
	e.dh.AddUser(dhtest.User{ID: dhClientUserID, Login: dhClientUserLogin, Password: "sensor-pw-unused", Active: true})

	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: dhSigningSecret, Namespace: e.ns},
		StringData: map[string]string{"secret": dhJWTSecret},
	})
	e.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: dhAdminSecret, Namespace: e.ns},
		StringData: map[string]string{"login": dhAdminLogin, "password": dhAdminPassword},
	})
	e.issuer(dhOfflineIssuer, tokensv1alpha1.DeviceHiveIssuer{
		Mode:                tokensv1alpha1.DeviceHiveModeOffline,
		SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: dhSigningSecret, Key: "secret"},
	}, nil)
	e.issuer(dhAPIIssuer, tokensv1alpha1.DeviceHiveIssuer{
		Mode:                 tokensv1alpha1.DeviceHiveModeAPI,
		CredentialsSecretRef: &tokensv1alpha1.LocalSecretRef{Name: dhAdminSecret},
	}, nil)
	// Checking an Offline issuer calls nothing; dh-api is checked by the
	// manager, or by hand in tests that drive tokens by hand.
	e.checkIssuer(dhOfflineIssuer)
	return e
}

// issuer creates a DeviceHive TokenIssuer pointing at the test server.
func (e *datEnv) issuer(name string, dh tokensv1alpha1.DeviceHiveIssuer, policy *tokensv1alpha1.IssuerPolicy) {
	e.t.Helper()
	dh.URL = e.url
	e.create(&tokensv1alpha1.TokenIssuer{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec:       tokensv1alpha1.TokenIssuerSpec{DeviceHive: &dh, Policy: policy},
	})
}

// deviceAccessToken creates a DeviceAccessToken of issuer for the client user:
// GetDevice and GetDeviceNotification on networks 1 and 3, every device type,
// 30m / 168h, in the Secret <name>-dh, after mutate.
func (e *datEnv) deviceAccessToken(name, issuer string, mutate func(*tokensv1alpha1.DeviceAccessToken)) *tokensv1alpha1.DeviceAccessToken {
	e.t.Helper()
	dat := &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: issuer},
			UserID:               dhClientUserID,
			Actions:              []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
			NetworkIDs:           []string{"1", "3"},
			DeviceTypeIDs:        []string{"*"},
			AccessTokenLifetime:  metav1.Duration{Duration: 30 * time.Minute},
			RefreshTokenLifetime: metav1.Duration{Duration: 168 * time.Hour},
			Secret:               tokensv1alpha1.SecretTemplate{Name: name + "-dh"},
		},
	}
	if mutate != nil {
		mutate(dat)
	}
	e.create(dat)
	return dat
}

// startManager runs the DeviceAccessToken controller, and only it, for this
// namespace as a new operator process would: its own cache, client and recorder.
// The namespace doubles as the operator's, for ClusterTokenIssuers' Secrets.
func (e *datEnv) startManager() (stop func()) {
	return e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		r := &DeviceAccessTokenReconciler{TokenDeps: e.managerDeps(mgr, DeviceAccessTokenControllerName), OperatorNamespace: e.ns}
		return r.SetupWithManager(mgr, 2, credentials)
	})
}

// manualReconciler returns a reconciler to drive by hand with c, once dh-api has
// passed a check (by hand, when no manager has checked it).
func (e *datEnv) manualReconciler(c client.Client) *DeviceAccessTokenReconciler {
	e.t.Helper()
	issuer := &tokensv1alpha1.TokenIssuer{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: dhAPIIssuer}, issuer); err != nil || readyStatus(issuer) != metav1.ConditionTrue {
		e.checkIssuer(dhAPIIssuer)
	}
	return &DeviceAccessTokenReconciler{TokenDeps: e.manualDeps(c), OperatorNamespace: e.ns}
}

// get reads dat afresh from the API server.
func (e *datEnv) get(dat *tokensv1alpha1.DeviceAccessToken) *tokensv1alpha1.DeviceAccessToken {
	e.t.Helper()
	return getToken(e.t, dat)
}

// waitReady waits until the controller reports dat Ready for its current generation.
func (e *datEnv) waitReady(dat *tokensv1alpha1.DeviceAccessToken) *tokensv1alpha1.DeviceAccessToken {
	e.t.Helper()
	return waitTokenReady(e.t, dat)
}

// waitStalled waits until dat is Stalled with reason, and returns its Ready
// condition.
func (e *datEnv) waitStalled(dat *tokensv1alpha1.DeviceAccessToken, reason string) metav1.Condition {
	e.t.Helper()
	var ready metav1.Condition
	NewWithT(e.t).Eventually(func(g Gomega) {
		got := e.get(dat)
		stalled := meta.FindStatusCondition(got.Status.Conditions, tokensv1alpha1.StalledCondition)
		g.Expect(stalled).NotTo(BeNil(), "conditions: %+v", got.Status.Conditions)
		g.Expect(stalled.Reason).To(Equal(reason), "conditions: %+v", got.Status.Conditions)
		r := meta.FindStatusCondition(got.Status.Conditions, tokensv1alpha1.ReadyCondition)
		g.Expect(r).NotTo(BeNil())
		g.Expect(r.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		ready = *r
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
	return ready
}

// rememberSecretValues registers the token values of every Secret left in the
// namespace.
func (e *datEnv) rememberSecretValues() {
	var list corev1.SecretList
	if err := k8sClient.List(ctx, &list, client.InNamespace(e.ns)); err != nil {
		e.t.Errorf("failed to list Secrets for the leak check: %v", err)
		return
	}
	for i := range list.Items {
		rememberSecretTokens(&list.Items[i])
	}
}

// recordingProxy puts a reverse proxy in front of a dhtest server and registers
// every token the server hands out (login pairs, refreshed tokens, minted pairs)
// for the leak check: dhtest keeps no list of the values it issued. rewrite, when
// set, edits each JSON request body on its way, to play an older server. It
// returns the base URL to give clients, base path included.
func recordingProxy(t *testing.T, base string, rewrite func(body map[string]any)) string {
	t.Helper()
	target, err := url.Parse(base)
	if err != nil {
		t.Fatalf("bad dhtest URL: %v", err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	if rewrite != nil {
		direct := proxy.Director
		proxy.Director = func(req *http.Request) {
			direct(req)
			var body map[string]any
			if raw, err := io.ReadAll(req.Body); err == nil && json.Unmarshal(raw, &body) == nil {
				rewrite(body)
				edited, _ := json.Marshal(body)
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(edited)), int64(len(edited))
				req.Header.Del("Content-Length")
			}
		}
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		var tokens map[string]any
		if json.Unmarshal(body, &tokens) == nil {
			for _, key := range []string{"accessToken", "refreshToken"} {
				if v, ok := tokens[key].(string); ok {
					rememberDeviceHiveValues(v)
				}
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL + target.Path
}
