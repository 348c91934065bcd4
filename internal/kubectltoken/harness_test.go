package kubectltoken_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/kubectltoken"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// world is one test's namespace, with an AWX test server and issuers of both
// kinds in it. It remembers every token value it has seen, so that each run of
// the plugin can be checked for leaks.
type world struct {
	t      *testing.T
	ns     string
	awx    *awxtest.Server
	values map[string]bool
}

// The issuers, user and signing key of every world.
const (
	awxIssuer  = "awx"
	dhIssuer   = "dh"
	awxUser    = "ci-bot"
	signingKey = "kubectl-token-test-signing-key"
)

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ns: testenv.NewNamespace(t, k8sClient), awx: awxtest.NewServer(t, awxtest.Options{}), values: map[string]bool{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("operator log:\n%s", operatorLog.String())
		}
	})
	w.awx.AddUser(awxtest.User{Username: awxUser, Password: "kubectl-token-test-password"})
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "ci-bot-login"},
		StringData: map[string]string{"username": awxUser, "password": "kubectl-token-test-password"}})
	w.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: awxIssuer},
		Spec: tokensv1alpha1.TokenIssuerSpec{AWX: &tokensv1alpha1.AWXIssuer{URL: w.awx.URL(), API: tokensv1alpha1.AWXAPIAuto}}})
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "dh-jwt-secret"},
		StringData: map[string]string{"secret": signingKey}})
	w.create(&tokensv1alpha1.TokenIssuer{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: dhIssuer},
		Spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{
			URL: "http://127.0.0.1:1/auth/rest", Mode: tokensv1alpha1.DeviceHiveModeOffline,
			SigningKeySecretRef: &tokensv1alpha1.SecretKeyRef{Name: "dh-jwt-secret", Key: "secret"},
		}}})
	return w
}

func (w *world) create(obj client.Object) {
	w.t.Helper()
	if err := k8sClient.Create(ctx, obj); err != nil {
		w.t.Fatalf("failed to create %T %s: %v", obj, obj.GetName(), err)
	}
}

// personalToken creates a PersonalToken renewed at maxAge, whose replaced tokens
// live overlap longer, and waits until it is Ready.
func (w *world) personalToken(name string, maxAge, overlap time.Duration) *tokensv1alpha1.PersonalToken {
	w.t.Helper()
	pt := &tokensv1alpha1.PersonalToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: tokensv1alpha1.PersonalTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: awxIssuer},
			CredentialsSecretRef: tokensv1alpha1.LocalSecretRef{Name: "ci-bot-login"},
			Scopes:               []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead, tokensv1alpha1.ScopeWrite},
			Rotation:             &tokensv1alpha1.Rotation{MaxAge: &metav1.Duration{Duration: maxAge}, Overlap: &metav1.Duration{Duration: overlap}},
			Secret:               tokensv1alpha1.PersonalTokenSecret{SecretTemplate: tokensv1alpha1.SecretTemplate{Name: name + "-awx"}},
		},
	}
	w.create(pt)
	w.waitReady(pt, 1)
	return pt
}

// deviceAccessToken creates a DeviceAccessToken for user 2 that may read
// devices and their notifications on networks 1 and 3, with access tokens
// living 30 minutes, and waits until it is Ready.
func (w *world) deviceAccessToken(name string) *tokensv1alpha1.DeviceAccessToken {
	w.t.Helper()
	dat := &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef: tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: dhIssuer},
			UserID:    2, Actions: []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
			NetworkIDs: []string{"1", "3"}, DeviceTypeIDs: []string{"*"},
			AccessTokenLifetime: metav1.Duration{Duration: 30 * time.Minute}, RefreshTokenLifetime: metav1.Duration{Duration: 2 * time.Hour},
			Secret: tokensv1alpha1.SecretTemplate{Name: name + "-dh"},
		},
	}
	w.create(dat)
	w.waitReady(dat, 1)
	return dat
}

// tokenObject is a token of either kind.
type tokenObject interface {
	client.Object
	GetConditions() []metav1.Condition
	GetTokenStatus() *tokensv1alpha1.TokenStatus
}

// waitReady waits until token is Ready at revision, and reads it.
func (w *world) waitReady(token tokenObject, revision int64) {
	w.t.Helper()
	NewWithT(w.t).Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(token), token)).To(Succeed())
		g.Expect(token.GetTokenStatus().Revision).To(Equal(revision))
		g.Expect(meta.IsStatusConditionTrue(token.GetConditions(), tokensv1alpha1.ReadyCondition)).To(BeTrue(),
			"conditions: %+v", token.GetConditions())
	}).WithTimeout(testenv.Wait).WithPolling(50 * time.Millisecond).Should(Succeed())
}

// secretData reads a Secret's data, and remembers the token values in it.
func (w *world) secretData(name string) map[string][]byte {
	w.t.Helper()
	s := &corev1.Secret{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: name}, s); err != nil {
		w.t.Fatalf("failed to read Secret %s: %v", name, err)
	}
	for key, value := range s.Data {
		if !strings.Contains(key, "ExpiresAt") && !strings.Contains(strings.ToLower(key), "host") {
			w.values[string(value)] = true
		}
	}
	return s.Data
}

// run runs `kubectl token ARGS -n NAMESPACE` in-process, and fails the test if
// its output or error shows a token value without --show-values.
func (w *world) run(args ...string) (string, error) {
	w.t.Helper()
	var out, errOut bytes.Buffer
	cmd := kubectltoken.NewCommand(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig, "-n", w.ns}, args...))
	err := cmd.ExecuteContext(ctx)
	if !slices.Contains(args, "--show-values") {
		all := out.String() + errOut.String()
		if err != nil {
			all += err.Error()
		}
		w.expectNoValue(all)
	}
	return out.String(), err
}

// expectNoValue fails the test if text holds a token value, or the signature of
// a JWT, that any test server issued or any Secret read so far held.
func (w *world) expectNoValue(text string) {
	w.t.Helper()
	for _, v := range w.awx.IssuedValues() {
		w.values[v] = true
	}
	for v := range w.values {
		parts := strings.Split(v, ".")
		if strings.Contains(text, v) || (len(parts) == 3 && strings.Contains(text, parts[2])) {
			w.t.Fatalf("a token value is in the output:\n%s", text)
		}
	}
}

// mustRun is run for a command that must succeed.
func (w *world) mustRun(args ...string) string {
	w.t.Helper()
	out, err := w.run(args...)
	if err != nil {
		w.t.Fatalf("kubectl token %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// until matches how the plugin prints the time left until at ("19m", as kubectl
// prints ages), allowing for the seconds between the command and this check.
func until(at time.Time) types.GomegaMatcher {
	d := time.Until(at)
	return Or(Equal(duration.HumanDuration(d)), Equal(duration.HumanDuration(d+time.Second)), Equal(duration.HumanDuration(d+2*time.Second)))
}

// stamp is how the plugin prints a time: RFC 3339 then, in brackets, how far it
// is from now; as a regular expression.
func stamp(at *metav1.Time) string {
	return regexp.QuoteMeta(at.UTC().Format(time.RFC3339)) + ` \((in [^)]+|[^)]+ ago)\)`
}
