package consumers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

func TestReads(t *testing.T) {
	secretVolume := func(name, secret string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}
	}
	projected := corev1.Volume{Name: "bundle", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}}},
		},
	}}}
	envFrom := corev1.Container{Name: "app", EnvFrom: []corev1.EnvFromSource{
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}}},
	}}
	keyRef := corev1.Container{Name: "init", Env: []corev1.EnvVar{{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{
		SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}, Key: "token"},
	}}}}
	mount := func(volume, subPath string) corev1.Container {
		return corev1.Container{Name: "app", VolumeMounts: []corev1.VolumeMount{{Name: volume, MountPath: "/etc/api", SubPath: subPath}}}
	}
	cases := []struct {
		name string
		spec corev1.PodSpec
		want tokensv1alpha1.ConsumerReads // empty: does not read it
	}{
		{"envFrom", corev1.PodSpec{Containers: []corev1.Container{envFrom}}, tokensv1alpha1.ConsumerReadsEnv},
		{"secretKeyRef in an init container", corev1.PodSpec{InitContainers: []corev1.Container{keyRef}}, tokensv1alpha1.ConsumerReadsEnv},
		{"secret volume", corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("creds", "api")}, Containers: []corev1.Container{mount("creds", "")}},
			tokensv1alpha1.ConsumerReadsVolume},
		{"projected volume", corev1.PodSpec{Volumes: []corev1.Volume{projected}, Containers: []corev1.Container{mount("bundle", "")}},
			tokensv1alpha1.ConsumerReadsVolume},
		{"subPath mount", corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("creds", "api")}, Containers: []corev1.Container{mount("creds", "token")}},
			tokensv1alpha1.ConsumerReadsSubPath},
		{"subPath of a projected volume", corev1.PodSpec{Volumes: []corev1.Volume{projected}, Containers: []corev1.Container{mount("bundle", "token")}},
			tokensv1alpha1.ConsumerReadsSubPath},
		{"env wins over a volume", corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("creds", "api")},
			Containers: []corev1.Container{mount("creds", ""), envFrom}}, tokensv1alpha1.ConsumerReadsEnv},
		{"another Secret", corev1.PodSpec{Volumes: []corev1.Volume{secretVolume("creds", "other")},
			Containers: []corev1.Container{mount("creds", "token")}}, ""},
		{"a ConfigMap of the same name", corev1.PodSpec{Containers: []corev1.Container{{Name: "app", EnvFrom: []corev1.EnvFromSource{
			{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "api"}}},
		}}}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Reads(&tc.spec, "api")
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("Reads = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestNeedsRestart(t *testing.T) {
	for reads, want := range map[tokensv1alpha1.ConsumerReads]bool{
		tokensv1alpha1.ConsumerReadsEnv:     true,
		tokensv1alpha1.ConsumerReadsSubPath: true,
		tokensv1alpha1.ConsumerReadsVolume:  false,
	} {
		if got := NeedsRestart(reads); got != want {
			t.Errorf("NeedsRestart(%s) = %v, want %v", reads, got, want)
		}
	}
}
