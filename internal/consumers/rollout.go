package consumers

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// The checks below read a workload's status the way `kubectl rollout status`
// does: the controller has seen the generation the rollout must reach, and every
// replica is updated and available, with none of the old ones left. A status
// does not count every old pod still shutting down (only a Deployment's
// terminatingReplicas does, where the feature is on): the caller also waits for
// the workload's terminating pods to be gone.

// DeploymentRolledOut tells whether d has finished rolling out generation.
func DeploymentRolledOut(d *appsv1.Deployment, generation int64) bool {
	s := d.Status
	want := ptr.Deref(d.Spec.Replicas, 1)
	return s.ObservedGeneration >= generation &&
		s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want && s.UnavailableReplicas == 0 &&
		ptr.Deref(s.TerminatingReplicas, 0) == 0
}

// StatefulSetRolledOut tells whether s has finished rolling out generation.
func StatefulSetRolledOut(s *appsv1.StatefulSet, generation int64) bool {
	st := s.Status
	want := ptr.Deref(s.Spec.Replicas, 1)
	return st.ObservedGeneration >= generation && st.UpdateRevision != "" && st.UpdateRevision == st.CurrentRevision &&
		st.Replicas == want && st.UpdatedReplicas == want && st.ReadyReplicas == want
}

// DaemonSetRolledOut tells whether d has finished rolling out generation.
func DaemonSetRolledOut(d *appsv1.DaemonSet, generation int64) bool {
	s := d.Status
	return s.ObservedGeneration >= generation &&
		s.UpdatedNumberScheduled == s.DesiredNumberScheduled && s.NumberAvailable == s.DesiredNumberScheduled && s.NumberUnavailable == 0
}

// JobFinished tells whether j has ended, completed or failed: its pods no longer run.
func JobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// PodFinished tells whether p has ended.
func PodFinished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}
