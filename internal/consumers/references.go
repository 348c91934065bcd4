package consumers

import (
	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// strength orders the ways of reading a Secret by what it takes to see a new
// value: a volume is refreshed by the kubelet, the others only by a restart.
var strength = map[tokensv1alpha1.ConsumerReads]int{
	tokensv1alpha1.ConsumerReadsVolume:  1,
	tokensv1alpha1.ConsumerReadsSubPath: 2,
	tokensv1alpha1.ConsumerReadsEnv:     3,
}

// Reads returns how spec reads the Secret name, in its containers and init
// containers, and false when it does not read it. A pod reading it several ways
// gets the way that needs the most: Env, then SubPath, then Volume.
func Reads(spec *corev1.PodSpec, name string) (tokensv1alpha1.ConsumerReads, bool) {
	reads := References(spec)[name]
	return reads, reads != ""
}

// NeedsRestart tells whether a consumer reading a Secret this way sees a new
// value only after its pods restart.
func NeedsRestart(reads tokensv1alpha1.ConsumerReads) bool {
	return reads != tokensv1alpha1.ConsumerReadsVolume
}

// References maps each Secret spec reads to how it reads it (see Reads).
func References(spec *corev1.PodSpec) map[string]tokensv1alpha1.ConsumerReads {
	refs := map[string]tokensv1alpha1.ConsumerReads{}
	note := func(name string, reads tokensv1alpha1.ConsumerReads) {
		if name != "" && strength[reads] > strength[refs[name]] {
			refs[name] = reads
		}
	}
	volumes := secretVolumes(spec.Volumes)
	for _, names := range volumes {
		for _, name := range names {
			note(name, tokensv1alpha1.ConsumerReadsVolume)
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, env := range c.Env {
			if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
				note(env.ValueFrom.SecretKeyRef.Name, tokensv1alpha1.ConsumerReadsEnv)
			}
		}
		for _, from := range c.EnvFrom {
			if from.SecretRef != nil {
				note(from.SecretRef.Name, tokensv1alpha1.ConsumerReadsEnv)
			}
		}
		for _, mount := range c.VolumeMounts {
			if mount.SubPath == "" && mount.SubPathExpr == "" {
				continue
			}
			for _, name := range volumes[mount.Name] {
				note(name, tokensv1alpha1.ConsumerReadsSubPath)
			}
		}
	}
	return refs
}

// secretVolumes maps each volume to the Secrets it projects: a secret volume's,
// or a projected volume's secret sources.
func secretVolumes(volumes []corev1.Volume) map[string][]string {
	out := map[string][]string{}
	for _, v := range volumes {
		switch {
		case v.Secret != nil:
			out[v.Name] = append(out[v.Name], v.Secret.SecretName)
		case v.Projected != nil:
			for _, source := range v.Projected.Sources {
				if source.Secret != nil {
					out[v.Name] = append(out[v.Name], source.Secret.Name)
				}
			}
		}
	}
	return out
}
