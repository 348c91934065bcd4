package reconcile

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Object is an API object with status conditions and an observed generation.
type Object interface {
	client.Object
	GetConditions() []metav1.Condition
	SetConditions([]metav1.Condition)
	SetObservedGeneration(int64)
}

// maxMessageLength keeps a condition message within what the API server accepts.
const maxMessageLength = 32768

// MarkTrue sets a condition True, stamped with the object's generation.
func MarkTrue(obj Object, condType, reason, message string) {
	set(obj, condType, metav1.ConditionTrue, reason, message)
}

// MarkFalse sets a condition False, stamped with the object's generation.
func MarkFalse(obj Object, condType, reason, message string) {
	set(obj, condType, metav1.ConditionFalse, reason, message)
}

// Delete removes a condition.
func Delete(obj Object, condType string) {
	conds := obj.GetConditions()
	meta.RemoveStatusCondition(&conds, condType)
	obj.SetConditions(conds)
}

func set(obj Object, condType string, status metav1.ConditionStatus, reason, message string) {
	// Messages are one line, as kubectl shows them in a column.
	message = strings.Join(strings.Fields(message), " ")
	if len(message) > maxMessageLength {
		message = message[:maxMessageLength]
	}
	conds := obj.GetConditions()
	meta.SetStatusCondition(&conds, metav1.Condition{
		Type:               condType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(conds)
}
