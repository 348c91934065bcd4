package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ConsumerRestartPolicy says which consumers of a token's Secret are restarted when
// the Secret changes.
// +kubebuilder:validation:Enum=Auto;Always;None
type ConsumerRestartPolicy string

const (
	// ConsumerRestartAuto restarts the workloads that cannot see a new value
	// otherwise: those reading the Secret through env, envFrom or a subPath mount.
	// Those mounting it as a volume wait for the kubelet's refresh instead.
	ConsumerRestartAuto ConsumerRestartPolicy = "Auto"
	// ConsumerRestartAlways restarts every Deployment, StatefulSet and DaemonSet
	// that reads the Secret.
	ConsumerRestartAlways ConsumerRestartPolicy = "Always"
	// ConsumerRestartNone restarts nothing; revocation still waits for consumers.
	ConsumerRestartNone ConsumerRestartPolicy = "None"
)

// DefaultMaxOverlap is how long a previous token waits for consumers that do not
// roll out, when spec.consumers.maxOverlap is unset.
const DefaultMaxOverlap = time.Hour

// Consumers says what happens to the workloads that read a token's Secret when it
// changes.
type Consumers struct {
	// restart is Auto (restart the workloads that read the Secret through env or a
	// subPath mount), Always (restart every workload that reads it) or None.
	// +kubebuilder:default=Auto
	// +optional
	Restart ConsumerRestartPolicy `json:"restart,omitempty"`

	// maxOverlap is the longest the previous token stays valid waiting for
	// consumers to roll out after the Secret changed; then it is revoked anyway,
	// with a ConsumersNotReady warning. Defaults to 1h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	MaxOverlap *metav1.Duration `json:"maxOverlap,omitempty"`
}

// ConsumerReads says how a consumer reads a Secret; the strongest way wins when
// it reads it in several.
// +kubebuilder:validation:Enum=Env;SubPath;Volume
type ConsumerReads string

const (
	// ConsumerReadsEnv: env valueFrom or envFrom, fixed when the container starts.
	ConsumerReadsEnv ConsumerReads = "Env"
	// ConsumerReadsSubPath: a volume mounted with subPath, which the kubelet never
	// refreshes.
	ConsumerReadsSubPath ConsumerReads = "SubPath"
	// ConsumerReadsVolume: a secret or projected volume, which the kubelet
	// refreshes in place.
	ConsumerReadsVolume ConsumerReads = "Volume"
)

// ConsumerAction is what the operator does about a consumer when the Secret changes.
// +kubebuilder:validation:Enum=Restart;Wait
type ConsumerAction string

const (
	// ConsumerActionRestart: the operator restarts the workload and waits for its rollout.
	ConsumerActionRestart ConsumerAction = "Restart"
	// ConsumerActionWait: the operator waits (for the kubelet's refresh, a rollout
	// someone else starts, or a Job or Pod to end), restarting nothing.
	ConsumerActionWait ConsumerAction = "Wait"
)

// ConsumerStatus is one workload that read the Secret when it last changed.
type ConsumerStatus struct {
	// kind is Deployment, StatefulSet, DaemonSet, Job or Pod.
	// +required
	Kind string `json:"kind"`

	// name of the workload, in the token's namespace.
	// +required
	Name string `json:"name"`

	// uid of the workload found reading the Secret: one of the same name created
	// since holds the new content.
	// +optional
	UID types.UID `json:"uid,omitempty"`

	// reads is how it reads the Secret: Env, SubPath or Volume.
	// +required
	Reads ConsumerReads `json:"reads"`

	// action is Restart or Wait.
	// +required
	Action ConsumerAction `json:"action"`

	// restarted is true once the operator has restarted it for this change.
	// +optional
	Restarted bool `json:"restarted,omitempty"`

	// generation is the workload's generation its rollout must reach: the one
	// after the restart.
	// +optional
	Generation int64 `json:"generation,omitempty"`

	// templateHash is a digest of the pod template of a workload the operator
	// waits for someone else to roll out (restart: None): a rollout of another
	// template counts, a scale does not.
	// +optional
	TemplateHash string `json:"templateHash,omitempty"`

	// rolledOut is true once it no longer holds the previous content.
	// +optional
	RolledOut bool `json:"rolledOut,omitempty"`
}
