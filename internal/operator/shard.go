package operator

import (
	"fmt"
	"hash/fnv"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/controllers"
)

// ShardLabel is the label whose value says which operator shard reconciles a
// token, as Flux's sharding.fluxcd.io/key does: a shard runs with
// --shard='sharding.tokenoperator.io/key in (shard1)', and the main operator with
// --shard='sharding.tokenoperator.io/key notin (shard1)' takes the rest.
const ShardLabel = "sharding.tokenoperator.io/key"

// cachedObjects limits the cache to the Secrets the operator owns and, with a
// shard, to the tokens the shard selects: a token another shard reconciles is
// never read, so never touched. Issuers are cached whole: every shard needs them.
func cachedObjects(shard string) (map[client.Object]cache.ByObject, error) {
	byObject := controllers.OwnedSecretsOnly()
	if shard == "" {
		return byObject, nil
	}
	selector, err := labels.Parse(shard)
	if err != nil {
		return nil, fmt.Errorf("--shard %q is not a label selector: %w", shard, err)
	}
	byObject[&tokensv1alpha1.PersonalToken{}] = cache.ByObject{Label: selector}
	byObject[&tokensv1alpha1.DeviceAccessToken{}] = cache.ByObject{Label: selector}
	return byObject, nil
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
