package consumers

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestDeploymentRolledOut(t *testing.T) {
	done := appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}
	cases := []struct {
		name   string
		mutate func(*appsv1.DeploymentStatus)
		want   bool
	}{
		{"every replica updated and available", func(*appsv1.DeploymentStatus) {}, true},
		{"the controller has not seen the restart", func(s *appsv1.DeploymentStatus) { s.ObservedGeneration = 2 }, false},
		{"an old replica is still there", func(s *appsv1.DeploymentStatus) { s.Replicas = 3 }, false},
		{"a new replica is not available yet", func(s *appsv1.DeploymentStatus) { s.AvailableReplicas = 1; s.UnavailableReplicas = 1 }, false},
		{"not every replica is updated", func(s *appsv1.DeploymentStatus) { s.UpdatedReplicas = 1 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}, Status: done}
			tc.mutate(&d.Status)
			if got := DeploymentRolledOut(d, 3); got != tc.want {
				t.Fatalf("DeploymentRolledOut = %v, want %v (status %+v)", got, tc.want, d.Status)
			}
		})
	}
}

func TestStatefulSetRolledOut(t *testing.T) {
	done := appsv1.StatefulSetStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3,
		CurrentRevision: "db-2", UpdateRevision: "db-2"}
	cases := []struct {
		name   string
		mutate func(*appsv1.StatefulSetStatus)
		want   bool
	}{
		{"current revision is the update revision, all ready", func(*appsv1.StatefulSetStatus) {}, true},
		{"still on the old revision", func(s *appsv1.StatefulSetStatus) { s.CurrentRevision = "db-1" }, false},
		{"a replica is not ready", func(s *appsv1.StatefulSetStatus) { s.ReadyReplicas = 2 }, false},
		{"the controller has not seen the restart", func(s *appsv1.StatefulSetStatus) { s.ObservedGeneration = 1 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3)}, Status: done}
			tc.mutate(&s.Status)
			if got := StatefulSetRolledOut(s, 2); got != tc.want {
				t.Fatalf("StatefulSetRolledOut = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDaemonSetRolledOut(t *testing.T) {
	done := appsv1.DaemonSetStatus{ObservedGeneration: 5, DesiredNumberScheduled: 4, UpdatedNumberScheduled: 4, NumberAvailable: 4}
	cases := []struct {
		name   string
		mutate func(*appsv1.DaemonSetStatus)
		want   bool
	}{
		{"every node updated and available", func(*appsv1.DaemonSetStatus) {}, true},
		{"a node still runs the old pod", func(s *appsv1.DaemonSetStatus) { s.UpdatedNumberScheduled = 3 }, false},
		{"a node's pod is unavailable", func(s *appsv1.DaemonSetStatus) { s.NumberAvailable = 3; s.NumberUnavailable = 1 }, false},
		{"the controller has not seen the restart", func(s *appsv1.DaemonSetStatus) { s.ObservedGeneration = 4 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.DaemonSet{Status: done}
			tc.mutate(&d.Status)
			if got := DaemonSetRolledOut(d, 5); got != tc.want {
				t.Fatalf("DaemonSetRolledOut = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestJobAndPodFinished(t *testing.T) {
	job := func(cond batchv1.JobConditionType, status corev1.ConditionStatus) *batchv1.Job {
		return &batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: cond, Status: status}}}}
	}
	if !JobFinished(job(batchv1.JobComplete, corev1.ConditionTrue)) || !JobFinished(job(batchv1.JobFailed, corev1.ConditionTrue)) {
		t.Error("a complete or failed Job has finished")
	}
	if JobFinished(job(batchv1.JobSuspended, corev1.ConditionTrue)) || JobFinished(&batchv1.Job{}) {
		t.Error("a suspended or running Job has not finished")
	}
	for phase, want := range map[corev1.PodPhase]bool{corev1.PodSucceeded: true, corev1.PodFailed: true, corev1.PodRunning: false, corev1.PodPending: false} {
		if got := PodFinished(&corev1.Pod{Status: corev1.PodStatus{Phase: phase}}); got != want {
			t.Errorf("PodFinished(%s) = %v, want %v", phase, got, want)
		}
	}
}

func TestDeploymentRolledOut_WaitsForTerminatingReplicas(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)}, Status: appsv1.DeploymentStatus{
		ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, TerminatingReplicas: ptr.To[int32](1)}}
	if DeploymentRolledOut(d, 2) {
		t.Fatal("an old pod still shutting down may use the old token")
	}
}
