package chart

import (
	"bytes"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenoperator/token-operator/internal/testenv"
)

// chartDir is the chart, relative to this package.
const chartDir = "../../charts/token-operator"

// render runs `helm template` for release in namespace with the --set values
// given, and returns the objects, or helm's error output.
func render(release, namespace string, set ...string) ([]*unstructured.Unstructured, error) {
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(helm, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.New(stderr.String())
	}
	var objs []*unstructured.Unstructured
	dec := yaml.NewYAMLOrJSONDecoder(&stdout, 4096)
	for {
		obj := &unstructured.Unstructured{}
		err := dec.Decode(&obj.Object)
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}

// mustRender renders, failing the test on an error.
func mustRender(t *testing.T, release, namespace string, set ...string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(release, namespace, set...)
	if err != nil {
		t.Fatalf("helm template failed: %v", err)
	}
	return objs
}

// install applies objs as the administrator, the way `helm install` creates
// them, and waits for the CRDs among them to be served. Objects of kinds the
// control plane does not serve (a ServiceMonitor) are left out.
func install(t *testing.T, namespace string, objs []*unstructured.Unstructured, leaveOut ...string) {
	t.Helper()
	g := NewWithT(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := k8sClient.Create(ctx, ns); client.IgnoreAlreadyExists(err) != nil {
		t.Fatalf("failed to create namespace %s: %v", namespace, err)
	}
	for _, obj := range objs {
		if contains(leaveOut, obj.GetKind()) {
			continue
		}
		g.Expect(k8sClient.Patch(ctx, obj, client.Apply, client.ForceOwnership, client.FieldOwner("helm"))).
			To(Succeed(), "apply %s %s", obj.GetKind(), obj.GetName())
		if obj.GetKind() == "CustomResourceDefinition" {
			waitEstablished(t, obj.GetName())
		}
	}
}

func waitEstablished(t *testing.T, name string) {
	t.Helper()
	NewWithT(t).Eventually(func(g Gomega) {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, crd)).To(Succeed())
		established := false
		for _, c := range crd.Status.Conditions {
			established = established || c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
		}
		g.Expect(established).To(BeTrue(), "CRD %s is not established", name)
	}).WithTimeout(testenv.Wait).WithPolling(100 * time.Millisecond).Should(Succeed())
}

// find returns the rendered objects of kind.
func find(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
