package controllers

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DeviceAccessTokens of one Offline issuer read its signing key Secret once per
// version, not once per pair.
func TestDeviceAccessTokens_TheSigningKeyIsReadOncePerVersion(t *testing.T) {
	g := NewWithT(t)
	e := newDATEnv(t, nil)
	reads := &secretReads{}
	defer e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		deps := e.managerDeps(mgr, DeviceAccessTokenControllerName)
		reads.Reader = deps.APIReader
		deps.APIReader = reads
		return (&DeviceAccessTokenReconciler{TokenDeps: deps, OperatorNamespace: e.ns}).SetupWithManager(mgr, 2, credentials)
	})()

	for i := range 4 {
		e.waitReady(e.deviceAccessToken(fmt.Sprintf("keyed-%d", i), dhOfflineIssuer, nil))
	}
	// The first read labels the Secret, which makes a version of it: the pair
	// minted next may see it before the cache does, and read it once more.
	g.Expect(reads.of(dhSigningSecret)).To(BeNumerically("<=", 2), "reads of the signing key for 4 pairs")
}

// secretReads counts the Secrets read through a real reader, by name.
type secretReads struct {
	client.Reader
	mu     sync.Mutex
	byName map[string]int
}

func (r *secretReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.Secret); ok {
		r.mu.Lock()
		if r.byName == nil {
			r.byName = map[string]int{}
		}
		r.byName[key.Name]++
		r.mu.Unlock()
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func (r *secretReads) of(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[name]
}

// Callers that need a Secret while another reads it wait for that read,
// holding room with the issuer until it lands; one that gets no room gives up,
// and one that sees another version of the Secret reads it itself.
func TestSecretVersions_ShareOneReadUnderWay(t *testing.T) {
	g := NewWithT(t)
	shown := &shownVersion{version: "7"}
	versions := newSecretVersions[string](shown)
	key := types.NamespacedName{Namespace: "ci", Name: "signing-key"}
	var reads atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	read := func() (readVersion[string], error) {
		n := reads.Add(1)
		close(started)
		<-release
		return readVersion[string]{resourceVersion: fmt.Sprint(n), value: "key"}, nil
	}
	var held atomic.Int32
	room := func(context.Context) (func(), error) {
		held.Add(1)
		return func() { held.Add(-1) }, nil
	}
	busy := fmt.Errorf("the issuer has no room")
	full := func(context.Context) (func(), error) { return nil, busy }
	type result struct {
		v   readVersion[string]
		err error
	}
	first := make(chan result)
	go func() { v, err := versions.share(ctx, key, "sign", room, read); first <- result{v, err} }()
	<-started

	_, err := versions.share(ctx, key, "sign", full, read)
	g.Expect(err).To(MatchError(busy), "no room: given up without waiting")

	// Room taken means the read under way was found: the caller waits for it.
	joined, waiting := make(chan struct{}), make(chan result)
	go func() {
		v, err := versions.share(ctx, key, "sign", func(ctx context.Context) (func(), error) {
			defer close(joined)
			return room(ctx)
		}, read)
		waiting <- result{v, err}
	}()
	<-joined
	g.Consistently(held.Load).Should(BeEquivalentTo(2), "both hold room until the read lands")
	close(release)
	want := result{v: readVersion[string]{resourceVersion: "1", value: "key"}}
	g.Expect(<-first).To(Equal(want))
	g.Expect(<-waiting).To(Equal(want), "the first read's result")
	g.Expect(reads.Load()).To(BeEquivalentTo(1))
	g.Expect(held.Load()).To(BeEquivalentTo(0))

	started = make(chan struct{})
	_, err = versions.share(ctx, key, "sign", full, read)
	g.Expect(err).To(MatchError(busy))
	g.Expect(reads.Load()).To(BeEquivalentTo(1), "not read without room")
	v, err := versions.share(ctx, key, "sign", nil, read)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.resourceVersion).To(Equal("2"), "a read once the last has landed is a new one")

	// A caller that sees a changed Secret does not take the read of the one
	// before.
	started, release = make(chan struct{}), make(chan struct{})
	go func() { v, err := versions.share(ctx, key, "sign", room, read); first <- result{v, err} }()
	<-started
	shown.set("8")
	started = make(chan struct{})
	go func() { <-started; close(release) }()
	v, err = versions.share(ctx, key, "sign", room, read)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.resourceVersion).To(Equal("4"), "read for the new version")
	g.Expect((<-first).v.resourceVersion).To(Equal("3"))
}

// The first read of a Secret labels it, so that the cache shows it, at the
// version the label made: a caller that sees that version while the read is
// under way waits for it rather than read it again.
func TestSecretVersions_TheLabelledVersionIsTheFirstReads(t *testing.T) {
	g := NewWithT(t)
	shown := &shownVersion{}
	versions := newSecretVersions[string](shown)
	key := types.NamespacedName{Namespace: "ci", Name: "ci-bot-login"}
	var reads atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan readVersion[string])
	go func() {
		v, _ := versions.share(ctx, key, "identify", nil, func() (readVersion[string], error) {
			reads.Add(1)
			close(started)
			<-release
			return readVersion[string]{resourceVersion: "8", value: "ci-bot"}, nil
		})
		first <- v
	}()
	<-started
	shown.set("8")
	joined, waiting := make(chan struct{}), make(chan readVersion[string])
	go func() {
		v, _ := versions.share(ctx, key, "identify", func(context.Context) (func(), error) {
			close(joined)
			return func() {}, nil
		}, func() (readVersion[string], error) {
			reads.Add(1)
			return readVersion[string]{resourceVersion: "8", value: "read again"}, nil
		})
		waiting <- v
	}()
	<-joined
	close(release)
	g.Expect(<-first).To(Equal(readVersion[string]{resourceVersion: "8", value: "ci-bot"}))
	g.Expect(<-waiting).To(Equal(readVersion[string]{resourceVersion: "8", value: "ci-bot"}))
	g.Expect(reads.Load()).To(BeEquivalentTo(1))
}

// A read that panics leaves those waiting for it an error, not an empty result.
func TestSecretVersions_AReadThatPanicsFailsItsWaiters(t *testing.T) {
	g := NewWithT(t)
	versions := newSecretVersions[string](&shownVersion{version: "7"})
	key := types.NamespacedName{Namespace: "ci", Name: "signing-key"}
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		defer func() { _ = recover() }()
		_, _ = versions.share(ctx, key, "sign", nil, func() (readVersion[string], error) {
			close(started)
			<-release
			panic("the read broke")
		})
	}()
	<-started
	joined := make(chan struct{})
	waiter := make(chan error)
	go func() {
		_, err := versions.share(ctx, key, "sign", func(context.Context) (func(), error) {
			close(joined)
			return func() {}, nil
		}, func() (readVersion[string], error) { return readVersion[string]{resourceVersion: "again"}, nil })
		waiter <- err
	}()
	<-joined
	close(release)
	g.Expect(<-waiter).To(MatchError(errReadUnfinished))
}

// shownVersion is the credentials cache as secretVersions asks it: which
// version of a Secret it shows, if it holds it.
type shownVersion struct {
	cache.Cache
	mu      sync.Mutex
	version string
}

func (s *shownVersion) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version == "" {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	obj.SetResourceVersion(s.version)
	return nil
}

func (s *shownVersion) set(version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = version
}
