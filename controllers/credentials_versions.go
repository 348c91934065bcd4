package controllers

import (
	"context"
	"maps"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
)

// credentialsVersions remembers, for each version of a credentials Secret the
// operator has read, the AWX credentials it holds and what a client with them
// learnt at each endpoint: the user they belong to, and where the API is. Tokens sharing credentials, minted together or one after
// another, then read the Secret and ask AWX who it is once per version, not once
// each. Which version is current is what the metadata-only credentials cache
// shows: a Secret it does not hold (not labelled yet) or shows at another
// version is read from the API server again.
type credentialsVersions struct {
	current ctrlcache.Cache // the credentials cache (NewCredentialsCache)
	read    *cache.LRUExpireCache
}

// credentialsVersion is one version of a credentials Secret, as read.
type credentialsVersion struct {
	resourceVersion string
	creds           awx.Credentials
	learnt          map[tokensv1alpha1.AWXEndpoint]awx.Learnt
}

// A version is forgotten after credentialsVersionTTL: an AWX user renamed or
// removed behind unchanged credentials is noticed within it. Beyond
// maxCredentialsVersions Secrets, the least recently used goes.
const (
	credentialsVersionTTL  = 10 * time.Minute
	maxCredentialsVersions = 1024
)

func newCredentialsVersions(current ctrlcache.Cache) *credentialsVersions {
	return &credentialsVersions{current: current, read: cache.NewLRUExpireCache(maxCredentialsVersions)}
}

// lookup returns what the current version of Secret key holds, if it was read.
func (c *credentialsVersions) lookup(ctx context.Context, key types.NamespacedName) (credentialsVersion, bool) {
	if c == nil {
		return credentialsVersion{}, false
	}
	seen, ok := c.read.Get(key)
	if !ok {
		return credentialsVersion{}, false
	}
	meta := metadataOf("Secret")
	if err := c.current.Get(ctx, key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			c.read.Remove(key)
		}
		return credentialsVersion{}, false
	}
	v := seen.(credentialsVersion)
	return v, v.resourceVersion == meta.ResourceVersion
}

// remember records what version resourceVersion of Secret key holds.
func (c *credentialsVersions) remember(key types.NamespacedName, resourceVersion string, creds awx.Credentials) {
	if c == nil {
		return
	}
	c.read.Add(key, credentialsVersion{resourceVersion: resourceVersion, creds: creds}, credentialsVersionTTL)
}

// learnt returns what a client with the version resourceVersion of Secret key
// learnt at endpoint, if it did.
func (c *credentialsVersions) learnt(key types.NamespacedName, resourceVersion string, endpoint tokensv1alpha1.AWXEndpoint) (awx.Learnt, bool) {
	if c == nil {
		return awx.Learnt{}, false
	}
	seen, ok := c.read.Get(key)
	if !ok || seen.(credentialsVersion).resourceVersion != resourceVersion {
		return awx.Learnt{}, false
	}
	l, ok := seen.(credentialsVersion).learnt[endpoint]
	return l, ok
}

// rememberLearnt records what a client with the version resourceVersion of
// Secret key learnt at endpoint.
func (c *credentialsVersions) rememberLearnt(key types.NamespacedName, resourceVersion string, endpoint tokensv1alpha1.AWXEndpoint, learnt awx.Learnt) {
	if c == nil {
		return
	}
	seen, ok := c.read.Get(key)
	if !ok || seen.(credentialsVersion).resourceVersion != resourceVersion {
		return
	}
	v := seen.(credentialsVersion)
	// A copy: a value in the cache is never changed, as others may be reading it.
	v.learnt = maps.Clone(v.learnt)
	if v.learnt == nil {
		v.learnt = map[tokensv1alpha1.AWXEndpoint]awx.Learnt{}
	}
	v.learnt[endpoint] = learnt
	c.read.Add(key, v, credentialsVersionTTL)
}
