package e2e

import (
	"testing"
	"time"
)

// testVolumeConsumer: a Deployment mounts the Secret and reads the file before
// every call. A rotation restarts nothing: the kubelet refreshes the file, and
// the old token is revoked only after every pod has read the new one.
func testVolumeConsumer(t *testing.T) {
	ctx := scenarioContext(t, 10*time.Minute)
	const ns, name, user, deploy = "e2e-volume", "reader", "volume-bot", "volume-consumer"
	pt := env.awxTokenWithConsumers(t, ctx, ns, name, user, deploy, readVolume)
	before, err := env.pods(ctx, ns, map[string]string{"app": deploy})
	if err != nil {
		t.Fatal(err)
	}

	oldID := pt.Status.TokenID
	if err := env.rotate(ctx, pt); err != nil {
		t.Fatal(err)
	}
	// The operator waits out the kubelet's refresh (--volume-refresh-delay, 2 minutes).
	if pt, err = env.waitPersonalToken(ctx, ns, name, oldID, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	newFP, err := env.secretFingerprint(ctx, ns, pt.Spec.Secret.Name, tokenKey)
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := env.revokedAt(oldID)
	if err != nil || revoked.IsZero() {
		t.Fatalf("old token %d was not revoked at AWX (%v)", oldID, err)
	}

	// A token revoked too early shows first as failed calls.
	env.checkConsumersNeverFailed(t, ctx, deploy)
	after, err := env.pods(ctx, ns, map[string]string{"app": deploy})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d pods before the rotation, %d after", len(before), len(after))
	}
	logs, err := env.consumerLogs(deploy + "-")
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, p := range before {
		uids[string(p.UID)] = true
	}
	read := map[string]time.Time{}
	for _, l := range logs {
		read[l.pod] = l.changes[newFP]
	}
	for _, p := range after {
		if !uids[string(p.UID)] || p.Status.ContainerStatuses[0].RestartCount != 0 {
			t.Fatalf("pod %s was replaced or restarted by the rotation", p.Name)
		}
		at := read[p.Name]
		switch {
		case at.IsZero():
			t.Fatalf("pod %s never read the new token from its volume", p.Name)
		case !at.Before(revoked):
			t.Fatalf("the old token was revoked at %s, before the kubelet refreshed pod %s's volume at %s", revoked, p.Name, at)
		}
		t.Logf("pod %s read the new token at %s, %s before the old one was revoked", p.Name, at.Format(time.RFC3339), revoked.Sub(at).Round(time.Second))
	}
	env.checkOneLiveToken(t, ctx, user, pt)
}
