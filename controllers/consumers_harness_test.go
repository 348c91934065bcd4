package controllers

import (
	"fmt"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// envtest runs no workload controllers: these helpers create workloads that read
// a token's Secret and play the Deployment controller's part, writing the status
// it would write.

// podReads adds one way of reading a Secret to a pod spec.
type podReads func(*corev1.PodSpec)

// envFrom reads every key of secret into the environment.
func envFrom(secret string) podReads {
	return func(spec *corev1.PodSpec) {
		spec.Containers[0].EnvFrom = append(spec.Containers[0].EnvFrom,
			corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}})
	}
}

// mounted mounts secret at /etc/<secret>, as one file when subPath is set.
func mounted(secret, subPath string) podReads {
	return func(spec *corev1.PodSpec) {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: secret,
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}})
		spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
			corev1.VolumeMount{Name: secret, MountPath: "/etc/" + secret, SubPath: subPath})
	}
}

// podSpec is a one-container pod spec that reads Secrets as reads say.
func podSpec(reads ...podReads) corev1.PodSpec {
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}
	for _, r := range reads {
		r(&spec)
	}
	return spec
}

// deployment creates a Deployment of two replicas in namespace, rolled out as
// the Deployment controller leaves a new one.
func (e *tokenEnv) deployment(namespace, name string, reads ...podReads) {
	e.t.Helper()
	labels := map[string]string{"app": name}
	e.create(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec(reads...)},
		},
	})
	e.finishRollout(namespace, name)
}

// getDeployment reads a Deployment afresh.
func (e *tokenEnv) getDeployment(namespace, name string) *appsv1.Deployment {
	e.t.Helper()
	d := &appsv1.Deployment{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, d); err != nil {
		e.t.Fatalf("failed to read Deployment %s: %v", name, err)
	}
	return d
}

// finishRollout writes the status the Deployment controller writes once every
// replica of the current generation is updated and available.
func (e *tokenEnv) finishRollout(namespace, name string) {
	e.t.Helper()
	d := e.getDeployment(namespace, name)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}
	if err := k8sClient.Status().Update(ctx, d); err != nil {
		e.t.Fatalf("failed to write the status of Deployment %s: %v", name, err)
	}
}

// startRollout writes the status the Deployment controller writes when it has
// seen a new generation and brought up one new replica of two.
func (e *tokenEnv) startRollout(namespace, name string) {
	e.t.Helper()
	d := e.getDeployment(namespace, name)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 1, ReadyReplicas: 2,
		AvailableReplicas: 2, UnavailableReplicas: 1}
	if err := k8sClient.Status().Update(ctx, d); err != nil {
		e.t.Fatalf("failed to write the status of Deployment %s: %v", name, err)
	}
}

// eventLog records the events of hand-driven reconciles, for tests to read,
// and hands them to the leak check.
type eventLog struct {
	mu    sync.Mutex
	notes []string // "Type Reason Kind/name: note"
}

var _ events.EventRecorder = (*eventLog)(nil)

func (l *eventLog) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	capturingRecorder{}.Eventf(regarding, related, eventtype, reason, action, note, args...)
	name := ""
	if o, ok := regarding.(client.Object); ok {
		name = fmt.Sprintf("%T/%s", o, o.GetName())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.notes = append(l.notes, fmt.Sprintf("%s %s %s: %s", eventtype, reason, name, fmt.Sprintf(note, args...)))
}

// with returns the events whose reason is reason.
func (l *eventLog) with(reason string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, n := range l.notes {
		if strings.Split(n, " ")[1] == reason {
			out = append(out, n)
		}
	}
	return out
}
