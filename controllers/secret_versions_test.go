package controllers

import (
	"context"
	"fmt"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
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
// holding room with the issuer; one that gets no room gives up.
func TestSecretVersions_ShareOneReadUnderWay(t *testing.T) {
	g := NewWithT(t)
	versions := newSecretVersions[string](nil)
	reads, started, release := 0, make(chan struct{}), make(chan struct{})
	read := func() (readVersion[string], error) {
		reads++
		close(started)
		<-release
		return readVersion[string]{resourceVersion: fmt.Sprint(reads), value: "key"}, nil
	}
	free := func(context.Context) (func(), error) { return func() {}, nil }
	busy := fmt.Errorf("the issuer has no room")
	full := func(context.Context) (func(), error) { return nil, busy }
	type result struct {
		v   readVersion[string]
		err error
	}
	first := make(chan result)
	go func() { v, err := versions.share(ctx, "signing-key", free, read); first <- result{v, err} }()
	<-started

	_, err := versions.share(ctx, "signing-key", full, read)
	g.Expect(err).To(MatchError(busy), "no room: given up without waiting")

	// Room taken means the read under way was found: the caller waits for it.
	roomTaken, waiting := make(chan struct{}), make(chan result)
	go func() {
		v, err := versions.share(ctx, "signing-key", func(context.Context) (func(), error) {
			close(roomTaken)
			return func() {}, nil
		}, read)
		waiting <- result{v, err}
	}()
	<-roomTaken
	close(release)
	want := result{v: readVersion[string]{resourceVersion: "1", value: "key"}}
	g.Expect(<-first).To(Equal(want))
	g.Expect(<-waiting).To(Equal(want), "the first read's result")
	g.Expect(reads).To(Equal(1))

	started = make(chan struct{})
	_, err = versions.share(ctx, "signing-key", full, read)
	g.Expect(err).To(MatchError(busy))
	g.Expect(reads).To(Equal(1), "not read without room")
	v, err := versions.share(ctx, "signing-key", nil, read)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(v.resourceVersion).To(Equal("2"), "a read once the last has landed is a new one")
}
