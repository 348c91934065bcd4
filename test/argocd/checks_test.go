package argocd

import (
	"fmt"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// check is a Gomega assertion on an object read from the API server.
type check func(g Gomega, u *unstructured.Unstructured)

// hasCondition checks that the condition is present with status, and with
// reason unless reason is empty.
func hasCondition(condType string, status metav1.ConditionStatus, reason string) check {
	return func(g Gomega, u *unstructured.Unstructured) {
		c := meta.FindStatusCondition(conditions(u), condType)
		g.Expect(c).NotTo(BeNil(), "%s in %v", condType, conditions(u))
		g.Expect(c.Status).To(Equal(status), "%s in %v", condType, conditions(u))
		if reason != "" {
			g.Expect(c.Reason).To(Equal(reason), "%s in %v", condType, conditions(u))
		}
	}
}

// isCurrent checks that the condition was set for the object's generation.
func isCurrent(condType string) check {
	return func(g Gomega, u *unstructured.Unstructured) {
		c := meta.FindStatusCondition(conditions(u), condType)
		g.Expect(c).NotTo(BeNil(), "%s in %v", condType, conditions(u))
		g.Expect(c.ObservedGeneration).To(Equal(u.GetGeneration()), "%s in %v", condType, conditions(u))
	}
}

// messageContains checks that the condition's message holds text.
func messageContains(condType, text string) check {
	return func(g Gomega, u *unstructured.Unstructured) {
		g.Expect(messageOf(u, condType)).To(ContainSubstring(text))
	}
}

// reconciled checks that the operator reached an outcome for the current generation.
func reconciled(g Gomega, u *unstructured.Unstructured) {
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	g.Expect(observed).To(Equal(u.GetGeneration()))
}

// conditions are the status conditions of u.
func conditions(u *unstructured.Unstructured) []metav1.Condition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]metav1.Condition, 0, len(raw))
	for _, item := range raw {
		var c metav1.Condition
		if m, ok := item.(map[string]any); ok && runtime.DefaultUnstructuredConverter.FromUnstructured(m, &c) == nil {
			out = append(out, c)
		}
	}
	return out
}

// messageOf is the message of u's condition condType.
func messageOf(u *unstructured.Unstructured, condType string) string {
	if c := meta.FindStatusCondition(conditions(u), condType); c != nil {
		return c.Message
	}
	return ""
}

// notReconciled is what the scripts say of a generation the operator has not
// reached an outcome for, and reports nothing of.
func notReconciled(u *unstructured.Unstructured) string {
	return fmt.Sprintf("the operator has not reconciled generation %d yet", u.GetGeneration())
}
