package v1alpha1_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// createAndRead creates a manifest and reads it back as the typed object the
// operator will see, defaults filled in by the API server.
func createAndRead(t *testing.T, namespace, yamlDoc string, into client.Object) {
	t.Helper()
	obj := manifest(t, namespace, yamlDoc, "")
	if err := k8sClient.Create(ctx, obj); err != nil {
		t.Fatalf("want the manifest accepted, got: %v", err)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), into); err != nil {
		t.Fatalf("failed to read back: %v", err)
	}
}

func TestAPIServerDefaults(t *testing.T) {
	ns := newNamespace(t)

	t.Run("PersonalToken", func(t *testing.T) {
		g := NewWithT(t)
		var pt tokensv1alpha1.PersonalToken
		createAndRead(t, ns, `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: PersonalToken
spec:
  issuerRef: {name: awx}
  credentialsSecretRef: {name: ci-bot-login}
  secret: {name: ci-runner-awx}
  consumers: {}
`, &pt)
		g.Expect(pt.Spec.IssuerRef.Kind).To(Equal(tokensv1alpha1.TokenIssuerKind))
		g.Expect(pt.Spec.Scopes).To(Equal([]tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeWrite}))
		g.Expect(pt.Spec.DeletionPolicy).To(Equal(tokensv1alpha1.DeletionPolicyRevoke))
		g.Expect(pt.Spec.Secret.Format).To(Equal(tokensv1alpha1.SecretFormatController))
		g.Expect(pt.Spec.Consumers.Restart).To(Equal(tokensv1alpha1.ConsumerRestartAuto))
		// kstatus reads a new object as InProgress until a reconcile reaches an outcome.
		g.Expect(pt.Status.ObservedGeneration).To(Equal(int64(-1)))
	})

	t.Run("DeviceAccessToken", func(t *testing.T) {
		g := NewWithT(t)
		var dat tokensv1alpha1.DeviceAccessToken
		createAndRead(t, ns, `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: DeviceAccessToken
spec:
  issuerRef: {name: devicehive}
  userId: 2
  actions: [GetDevice]
  networkIds: ["1"]
  deviceTypeIds: ["*"]
  secret: {name: sensor-reader-dh}
`, &dat)
		g.Expect(dat.Spec.IssuerRef.Kind).To(Equal(tokensv1alpha1.TokenIssuerKind))
		g.Expect(dat.Spec.AccessTokenLifetime).To(Equal(metav1.Duration{Duration: 30 * time.Minute}))
		g.Expect(dat.Spec.RefreshTokenLifetime).To(Equal(metav1.Duration{Duration: 168 * time.Hour}))
		g.Expect(dat.Status.ObservedGeneration).To(Equal(int64(-1)))
	})

	t.Run("awx TokenIssuer", func(t *testing.T) {
		g := NewWithT(t)
		var issuer tokensv1alpha1.TokenIssuer
		createAndRead(t, ns, `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: TokenIssuer
spec:
  awx: {url: "http://awx.example.com:8052"}
`, &issuer)
		g.Expect(issuer.Spec.AWX.API).To(Equal(tokensv1alpha1.AWXAPIAuto))
		g.Expect(issuer.Status.ObservedGeneration).To(Equal(int64(-1)))
	})

	t.Run("deviceHive ClusterTokenIssuer", func(t *testing.T) {
		g := NewWithT(t)
		var issuer tokensv1alpha1.ClusterTokenIssuer
		createAndRead(t, "", `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: ClusterTokenIssuer
spec:
  deviceHive:
    url: "https://dh.example.com/dh/rest"
    mode: Offline
    signingKeySecretRef: {name: dh-jwt-secret}
  policy: {allowedUserIds: ["2"]}
`, &issuer)
		g.Expect(issuer.Spec.DeviceHive.SigningKeySecretRef.Key).To(Equal("secret"))
	})
}

func TestPersonalToken_IssuerRefIsImmutable(t *testing.T) {
	g := NewWithT(t)
	var pt tokensv1alpha1.PersonalToken
	createAndRead(t, newNamespace(t), validPersonalToken, &pt)

	pt.Spec.Scopes = []tokensv1alpha1.PersonalTokenScope{tokensv1alpha1.ScopeRead}
	g.Expect(k8sClient.Update(ctx, &pt)).To(Succeed(), "other fields stay mutable")

	pt.Spec.IssuerRef.Name = "awx-staging"
	err := k8sClient.Update(ctx, &pt)
	g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want the update refused, got: %v", err)
	g.Expect(refusalCauses(err)).To(ContainElement(And(
		HaveField("Field", "spec.issuerRef"),
		HaveField("Message", ContainSubstring("issuerRef is immutable")),
	)))
}
