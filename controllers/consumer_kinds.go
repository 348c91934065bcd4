package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tokenoperator/token-operator/internal/consumers"
)

// consumerKind is a kind of object that can read a token's Secret: the
// workloads the operator restarts, and the Jobs and Pods it only waits for.
type consumerKind struct {
	kind    string
	newObj  func() client.Object
	newList func() client.ObjectList
	// template is the pod template a restart changes; nil for kinds never restarted.
	template func(client.Object) *corev1.PodTemplateSpec
	podSpec  func(client.Object) *corev1.PodSpec
	// selector selects the pods of a workload; nil for Jobs and Pods.
	selector func(client.Object) *metav1.LabelSelector
	// holds tells whether obj, as found when the Secret changed, may hold its
	// previous content: not a Job or Pod that has ended, nor a Pod another
	// consumer controls.
	holds func(client.Object) bool
	// done tells whether obj no longer holds the previous content: it has rolled
	// out generation, or ended.
	done func(obj client.Object, generation int64) bool
}

func always(client.Object) bool { return true }

// consumerKinds are looked for in this order, which status.consumers keeps.
var consumerKinds = []consumerKind{
	{
		kind:     "Deployment",
		newObj:   func() client.Object { return &appsv1.Deployment{} },
		newList:  func() client.ObjectList { return &appsv1.DeploymentList{} },
		template: func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.Deployment).Spec.Template },
		podSpec:  func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.Deployment).Spec.Template.Spec },
		selector: func(o client.Object) *metav1.LabelSelector { return o.(*appsv1.Deployment).Spec.Selector },
		holds:    always,
		done:     func(o client.Object, g int64) bool { return consumers.DeploymentRolledOut(o.(*appsv1.Deployment), g) },
	},
	{
		kind:     "StatefulSet",
		newObj:   func() client.Object { return &appsv1.StatefulSet{} },
		newList:  func() client.ObjectList { return &appsv1.StatefulSetList{} },
		template: func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.StatefulSet).Spec.Template },
		podSpec:  func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.StatefulSet).Spec.Template.Spec },
		selector: func(o client.Object) *metav1.LabelSelector { return o.(*appsv1.StatefulSet).Spec.Selector },
		holds:    always,
		done:     func(o client.Object, g int64) bool { return consumers.StatefulSetRolledOut(o.(*appsv1.StatefulSet), g) },
	},
	{
		kind:     "DaemonSet",
		newObj:   func() client.Object { return &appsv1.DaemonSet{} },
		newList:  func() client.ObjectList { return &appsv1.DaemonSetList{} },
		template: func(o client.Object) *corev1.PodTemplateSpec { return &o.(*appsv1.DaemonSet).Spec.Template },
		podSpec:  func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.DaemonSet).Spec.Template.Spec },
		selector: func(o client.Object) *metav1.LabelSelector { return o.(*appsv1.DaemonSet).Spec.Selector },
		holds:    always,
		done:     func(o client.Object, g int64) bool { return consumers.DaemonSetRolledOut(o.(*appsv1.DaemonSet), g) },
	},
	{
		// Jobs, CronJobs' runs among them, are waited for and never restarted: a
		// restart would run their work again.
		kind:    "Job",
		newObj:  func() client.Object { return &batchv1.Job{} },
		newList: func() client.ObjectList { return &batchv1.JobList{} },
		podSpec: func(o client.Object) *corev1.PodSpec { return &o.(*batchv1.Job).Spec.Template.Spec },
		holds:   func(o client.Object) bool { return !consumers.JobFinished(o.(*batchv1.Job)) },
		done:    func(o client.Object, _ int64) bool { return consumers.JobFinished(o.(*batchv1.Job)) },
	},
	{
		// Pods that none of the kinds above controls: bare Pods, and those of
		// controllers the operator does not restart (a ReplicaSet of its own, an
		// Argo Rollout, another operator's).
		kind:    "Pod",
		newObj:  func() client.Object { return &corev1.Pod{} },
		newList: func() client.ObjectList { return &corev1.PodList{} },
		podSpec: func(o client.Object) *corev1.PodSpec { return &o.(*corev1.Pod).Spec },
		holds: func(o client.Object) bool {
			return !controlledByAWorkload(o.(*corev1.Pod)) && !consumers.PodFinished(o.(*corev1.Pod))
		},
		done: func(o client.Object, _ int64) bool { return consumers.PodFinished(o.(*corev1.Pod)) },
	},
}

// controlledByAWorkload tells whether one of the kinds above answers for p: a
// StatefulSet, DaemonSet or Job controls it, or a ReplicaSet that a Deployment
// made (its pods carry the pod-template-hash label).
func controlledByAWorkload(p *corev1.Pod) bool {
	owner := metav1.GetControllerOf(p)
	if owner == nil {
		return false
	}
	switch owner.Kind {
	case "StatefulSet", "DaemonSet", "Job":
		return true
	case "ReplicaSet":
		_, deployed := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		return deployed
	}
	return false
}

// consumerKindNamed returns the consumerKind of kind, false for one unknown.
func consumerKindNamed(kind string) (consumerKind, bool) {
	for _, k := range consumerKinds {
		if k.kind == kind {
			return k, true
		}
	}
	return consumerKind{}, false
}
