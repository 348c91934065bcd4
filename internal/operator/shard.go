package operator

import (
	"fmt"
	"hash/fnv"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
)

// ShardLabel is the label whose value says which operator shard reconciles a
// token (see tokensv1alpha1.ShardLabel).
const ShardLabel = tokensv1alpha1.ShardLabel

// parseShard reads the --shard label selector; nil when there is none.
func parseShard(shard string) (labels.Selector, error) {
	if shard == "" {
		return nil, nil
	}
	selector, err := labels.Parse(shard)
	if err != nil {
		return nil, fmt.Errorf("--shard %q is not a label selector: %w", shard, err)
	}
	return selector, nil
}

// cachedObjects limits the cache to the Secrets the operator owns and, with a
// shard, to the tokens the shard selects and their Secrets: a token another
// shard reconciles is never read, so never touched. Issuers are cached whole:
// every shard's tokens read them.
func cachedObjects(shard labels.Selector) map[client.Object]cache.ByObject {
	byObject := controllers.OwnedSecretsOnly(shard)
	if shard != nil {
		byObject[&tokensv1alpha1.PersonalToken{}] = cache.ByObject{Label: shard}
		byObject[&tokensv1alpha1.DeviceAccessToken{}] = cache.ByObject{Label: shard}
	}
	return byObject
}

// shardLabels are the label keys a token's Secret carries as the token does:
// those the shard's selector names, and ShardLabel always, so that Secrets
// written before the operator is split are ready for it.
func shardLabels(shard labels.Selector) []string {
	keys := []string{ShardLabel}
	if shard != nil {
		requirements, _ := shard.Requirements()
		for _, r := range requirements {
			keys = append(keys, r.Key())
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// leaderElectionID names the Lease of the operator's replicas: each shard has
// its own, so that shards run side by side and replicas of one shard take turns.
// The selector is hashed as it parses, so that "in (a)" and "in(a)" are one shard.
func leaderElectionID(shard string) string {
	const id = "token-operator.tokenoperator.io"
	if shard == "" {
		return id
	}
	if selector, err := labels.Parse(shard); err == nil {
		shard = selector.String()
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(shard))
	return fmt.Sprintf("%s-shard-%08x", id, h.Sum32())
}
