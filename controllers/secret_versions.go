package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// shows at another version is read from the API server again. Tokens that
// need it at once wait for one of them to read it (share).
type secretVersions[T any] struct {
	current ctrlcache.Cache // the credentials cache (NewCredentialsCache)
	read    *cache.LRUExpireCache
	mu      sync.Mutex
	flights map[string]*flight[T]
}

// flight is a read under way, which others wait for.
type flight[T any] struct {
	done  chan struct{}
	value readVersion[T]
	err   error
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
	return &secretVersions[T]{current: current, read: cache.NewLRUExpireCache(maxSecretVersions), flights: map[string]*flight[T]{}}
}

// lookup returns what was made of the current version of Secret key, if it
// was read. A nil secretVersions knows nothing.
func (c *secretVersions[T]) lookup(ctx context.Context, key types.NamespacedName) (readVersion[T], bool) {
	v, ok := c.last(key)
	if !ok {
		return readVersion[T]{}, false
	}
	shown := c.shown(ctx, key)
	return v, shown != "" && v.resourceVersion == shown
}

// shown is the version of Secret key the credentials cache shows, empty when
// it does not hold the Secret: one just labelled may not be in it yet.
func (c *secretVersions[T]) shown(ctx context.Context, key types.NamespacedName) string {
	meta := metadataOf("Secret")
	if err := c.current.Get(ctx, key, meta); err != nil {
		return ""
	}
	return meta.ResourceVersion
}

// remembered returns what was made of version resourceVersion of Secret key,
// if that version is the one remembered: a Secret read again at the version
// read before (the cache had not shown it yet) keeps what followed from it.
func (c *secretVersions[T]) remembered(key types.NamespacedName, resourceVersion string) (readVersion[T], bool) {
	v, ok := c.last(key)
	return v, ok && v.resourceVersion == resourceVersion
}

// last is the version of Secret key remembered last, if any.
func (c *secretVersions[T]) last(key types.NamespacedName) (readVersion[T], bool) {
	if c == nil {
		return readVersion[T]{}, false
	}
	seen, ok := c.read.Get(key)
	if !ok {
		return readVersion[T]{}, false
	}
	return seen.(readVersion[T]), true
}

// share runs read once for the callers that need Secret key, for the same
// purpose, while it runs: without it, every worker reconciling a token that
// shares a Secret reads it, and does what follows from it, before the first
// has remembered it. A read serves the version of the Secret the cache showed
// when it began: a caller woken by a change starts a read of its own. When
// read calls a remote system, every caller takes room with it first (take,
// RemoteBudget) and holds it until read lands, whether it runs read or waits
// for it: an issuer that hangs holds no more workers than its room. A nil take
// takes nothing; a nil secretVersions runs read.
func (c *secretVersions[T]) share(ctx context.Context, key types.NamespacedName, purpose string,
	take func(context.Context) (release func(), err error), read func() (readVersion[T], error)) (readVersion[T], error) {
	if c == nil {
		return runHolding(ctx, take, read)
	}
	shown := c.shown(ctx, key)
	name := func(version string) string { return fmt.Sprintf("%s@%s %s", key, version, purpose) }
	// A caller that finds a read under way waits for that one, even if it
	// lands while the caller waits for room. A read begun before the cache
	// showed the Secret labels it, and reads the version the label made: a
	// caller that sees that version takes it.
	f, found := c.flight(name(shown), false)
	var unlabelled *flight[T]
	if !found && shown != "" {
		unlabelled, _ = c.flight(name(""), false)
	}
	if take != nil {
		release, err := take(ctx)
		if err != nil {
			return readVersion[T]{}, err
		}
		defer release()
	}
	if unlabelled != nil {
		if v, err := unlabelled.wait(ctx); v.resourceVersion == shown {
			return v, err
		}
	}
	for {
		if !found {
			f, found = c.flight(name(shown), true)
		}
		if !found {
			return c.run(name(shown), f, read)
		}
		v, err := f.wait(ctx)
		// A read that ended with its reader's context, not with ours, is
		// run again.
		if ctx.Err() != nil || !(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return v, err
		}
		found = false
	}
}

// run runs read as flight f, named name, for those waiting for it.
func (c *secretVersions[T]) run(name string, f *flight[T], read func() (readVersion[T], error)) (readVersion[T], error) {
	defer func() {
		c.mu.Lock()
		delete(c.flights, name)
		c.mu.Unlock()
		close(f.done)
	}()
	// What the others get if read panics.
	f.err = errReadUnfinished
	f.value, f.err = read()
	return f.value, f.err
}

var errReadUnfinished = errors.New("reading a Secret shared with other tokens failed: it is read again on the next attempt")

// runHolding runs read holding room taken with take, if any.
func runHolding[T any](ctx context.Context, take func(context.Context) (func(), error), read func() (readVersion[T], error)) (readVersion[T], error) {
	if take != nil {
		release, err := take(ctx)
		if err != nil {
			return readVersion[T]{}, err
		}
		defer release()
	}
	return read()
}

// flight returns the read under way named name, if any, and found; or, when
// start, a new one for the caller to run.
func (c *secretVersions[T]) flight(name string, start bool) (f *flight[T], found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, found = c.flights[name]; found || !start {
		return f, found
	}
	f = &flight[T]{done: make(chan struct{})}
	c.flights[name] = f
	return f, false
}

// wait waits for f to land, or ctx to end.
func (f *flight[T]) wait(ctx context.Context) (readVersion[T], error) {
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return readVersion[T]{}, ctx.Err()
	}
}

// keep records value as version resourceVersion of Secret key, unless that
// version is remembered, and returns what is: a Secret read again at the
// version read before keeps what followed from it.
func (c *secretVersions[T]) keep(key types.NamespacedName, resourceVersion string, value T) T {
	return c.update(key, resourceVersion, value, func(v T) T { return v })
}

// update records change applied to what is remembered of version
// resourceVersion of Secret key, or to value when another version (or none)
// is, and returns it: reads of the same version for other purposes (AWX
// endpoints) each add what they learnt.
func (c *secretVersions[T]) update(key types.NamespacedName, resourceVersion string, value T, change func(T) T) T {
	if c == nil {
		return change(value)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, same := c.remembered(key, resourceVersion); same {
		value = v.value
	}
	value = change(value)
	c.remember(key, resourceVersion, value)
	return value
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
