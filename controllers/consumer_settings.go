package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=get;list;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list

// ConsumerSettings are the operator-wide settings of how the consumers of a
// token's Secret are brought to its new content.
type ConsumerSettings struct {
	// RestartWindow delays a restart this long after the Secret changed, so that
	// a workload reading several Secrets that change together rolls out once.
	RestartWindow time.Duration
	// VolumeRefreshDelay is how long the kubelet may take to refresh a mounted
	// Secret (its sync period plus its cache's time to live).
	VolumeRefreshDelay time.Duration
	// PollInterval is how often a workload being rolled out is looked at: the
	// operator does not watch workloads, so as to cache nothing it does not own.
	PollInterval time.Duration
}

// DefaultConsumerSettings are the settings the operator runs with unless told otherwise.
var DefaultConsumerSettings = ConsumerSettings{RestartWindow: 10 * time.Second, VolumeRefreshDelay: 2 * time.Minute, PollInterval: 10 * time.Second}

// consumerPolicy is a token's spec.consumers with its defaults filled in.
type consumerPolicy struct {
	restart    tokensv1alpha1.ConsumerRestartPolicy
	maxOverlap time.Duration
}

func consumerPolicyOf(c *tokensv1alpha1.Consumers) consumerPolicy {
	p := consumerPolicy{restart: tokensv1alpha1.ConsumerRestartAuto, maxOverlap: tokensv1alpha1.DefaultMaxOverlap}
	if c == nil {
		return p
	}
	if c.Restart != "" {
		p.restart = c.Restart
	}
	if c.MaxOverlap != nil {
		p.maxOverlap = c.MaxOverlap.Duration
	}
	return p
}

// unrecordedVersion is status.secretVersion for a Secret content that held a
// token but was never recorded: no Secret's content digests to it.
const unrecordedVersion = "unrecorded"

// secretVersion identifies a Secret's content: the first 64 bits of a SHA-256
// over its keys and values. It is written where the value must not be (status,
// pod templates); 64 bits of a digest of a random token cannot be reversed.
func secretVersion(data map[string][]byte) string {
	h := sha256.New()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		// Lengths first, so that no two contents digest the same bytes.
		h.Write([]byte{byte(len(k) >> 8), byte(len(k))})
		h.Write([]byte(k))
		v := data[k]
		h.Write([]byte{byte(len(v) >> 24), byte(len(v) >> 16), byte(len(v) >> 8), byte(len(v))})
		h.Write(v)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// restartedFor decodes the RestartedForAnnotation: Secret name → version.
func restartedFor(annotation string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(annotation, ",") {
		if name, version, ok := strings.Cut(pair, "="); ok && name != "" {
			out[name] = version
		}
	}
	return out
}

// encodeRestartedFor encodes the RestartedForAnnotation, sorted so that the same
// content writes the same value. Secret names hold neither ',' nor '='.
func encodeRestartedFor(versions map[string]string) string {
	pairs := make([]string, 0, len(versions))
	for name, version := range versions {
		pairs = append(pairs, name+"="+version)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}
