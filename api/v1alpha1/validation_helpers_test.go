package v1alpha1_test

import (
	"errors"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// invalidCase is a manifest the API server must refuse: the valid base manifest of
// its table with patch (an RFC 7386 JSON merge patch; null removes a field) applied.
type invalidCase struct {
	name    string
	patch   string
	field   string // the field the refusal names, e.g. spec.scopes[1]
	message string // a part of the refusal's message for that field
}

// runInvalidCases proves that base is accepted, then that each case is refused with
// a message naming its field. Cluster-scoped kinds get namespace "".
func runInvalidCases(t *testing.T, namespace, base string, cases []invalidCase) {
	t.Helper()
	t.Run("base manifest is accepted", func(t *testing.T) {
		NewWithT(t).Expect(k8sClient.Create(ctx, manifest(t, namespace, base, ""))).To(Succeed())
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			err := k8sClient.Create(ctx, manifest(t, namespace, base, tc.patch))
			g.Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want the manifest refused as invalid, got: %v", err)
			g.Expect(refusalCauses(err)).To(ContainElement(And(
				HaveField("Field", tc.field),
				HaveField("Message", ContainSubstring(tc.message)),
			)), "refusal: %v", err)
		})
	}
}

// manifest builds an object from YAML with an optional merge patch, named uniquely.
func manifest(t *testing.T, namespace, base, patch string) *unstructured.Unstructured {
	t.Helper()
	doc, err := yaml.YAMLToJSON([]byte(base))
	if err != nil {
		t.Fatalf("bad base manifest: %v", err)
	}
	if patch != "" {
		if doc, err = jsonpatch.MergePatch(doc, []byte(patch)); err != nil {
			t.Fatalf("bad patch %s: %v", patch, err)
		}
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(doc); err != nil {
		t.Fatalf("bad manifest: %v", err)
	}
	obj.SetNamespace(namespace)
	obj.SetName("")
	obj.SetGenerateName("validation-")
	return obj
}

func refusalCauses(err error) []metav1.StatusCause {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return nil
	}
	return status.Status().Details.Causes
}
