package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/cache"
	ctrlcache "sigs.k8s.io/controller-runtime/pkg/cache"
)

// secretVersions remembers what was made of each version of a Secret the
// operator reads but does not own (a PersonalToken's credentials, a DeviceHive
// issuer's signing key): tokens sharing it, minted together or one after
// another, then read it, and do what follows from it, once per version rather
// than once each. Which version is current is what the metadata-only
// credentials cache shows: a Secret it does not hold (not labelled yet) or
// shows at another version is read from the API server again.
type secretVersions[T any] struct {
	current ctrlcache.Cache // the credentials cache (NewCredentialsCache)
	read    *cache.LRUExpireCache
}

// readVersion is what was made of one version of a Secret.
type readVersion[T any] struct {
	resourceVersion string
	value           T
}

// Format prints the version alone: fmt would print the value's unexported
// fields (credentials, a key) as they are, whatever their own Format says.
func (v readVersion[T]) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "version %s of a Secret (contents hidden)", v.resourceVersion)
}

// A version is forgotten secretVersionTTL after it was last remembered: what
// lies behind an unchanged Secret (an AWX user renamed) is noticed within it.
// Beyond maxSecretVersions Secrets, the least recently used goes.
const (
	secretVersionTTL  = 10 * time.Minute
	maxSecretVersions = 1024
)

func newSecretVersions[T any](current ctrlcache.Cache) *secretVersions[T] {
	return &secretVersions[T]{current: current, read: cache.NewLRUExpireCache(maxSecretVersions)}
}

// lookup returns what was made of the current version of Secret key, if it
// was read. A nil secretVersions knows nothing.
func (c *secretVersions[T]) lookup(ctx context.Context, key types.NamespacedName) (readVersion[T], bool) {
	if c == nil {
		return readVersion[T]{}, false
	}
	seen, ok := c.read.Get(key)
	if !ok {
		return readVersion[T]{}, false
	}
	// A Secret just labelled may not be in the cache yet: a miss, not a reason
	// to forget it.
	meta := metadataOf("Secret")
	if err := c.current.Get(ctx, key, meta); err != nil {
		return readVersion[T]{}, false
	}
	v := seen.(readVersion[T])
	return v, v.resourceVersion == meta.ResourceVersion
}

// remember records value as what was made of the version resourceVersion of
// Secret key.
func (c *secretVersions[T]) remember(key types.NamespacedName, resourceVersion string, value T) {
	if c == nil {
		return
	}
	c.read.Add(key, readVersion[T]{resourceVersion: resourceVersion, value: value}, secretVersionTTL)
}

// forget drops what was made of Secret key: the next use reads it again.
func (c *secretVersions[T]) forget(key types.NamespacedName) {
	if c != nil {
		c.read.Remove(key)
	}
}
