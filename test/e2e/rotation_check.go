package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokenKey is the Secret key an AWX token of format Controller is in.
const tokenKey = "CONTROLLER_OAUTH_TOKEN"

// rotateEnvConsumed rotates a PersonalToken read through env by Deployment
// deploy, runs during (if not nil) while the rotation goes on, and checks what
// a user relies on: a new token in the Secret, the workload rolled out onto it,
// the old token revoked only once every pod that had loaded it had stopped.
func (e *environment) rotateEnvConsumed(t *testing.T, ctx context.Context, pt *tokensv1alpha1.PersonalToken, deploy string, during func()) *tokensv1alpha1.PersonalToken {
	t.Helper()
	ns, secret := pt.Namespace, pt.Spec.Secret.Name
	oldID := pt.Status.TokenID
	oldFP, err := e.secretFingerprint(ctx, ns, secret, tokenKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rotate(ctx, pt); err != nil {
		t.Fatal(err)
	}
	if during != nil {
		during()
	}
	if pt, err = e.waitPersonalToken(ctx, ns, pt.Name, oldID, 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := e.waitRolledOut(ctx, ns, deploy, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	newFP, err := e.secretFingerprint(ctx, ns, secret, tokenKey)
	if err != nil {
		t.Fatal(err)
	}
	if newFP == oldFP {
		t.Fatalf("Secret %s still holds the old token after the rotation", secret)
	}
	revoked, err := e.revokedAt(oldID)
	if err != nil || revoked.IsZero() {
		t.Fatalf("old token %d was not revoked at AWX (%v)", oldID, err)
	}
	if err := e.checkMovedOn(ctx, deploy, ns, oldFP, newFP, revoked); err != nil {
		t.Fatal(err)
	}
	t.Logf("token %d -> %d: old token revoked at %s, after its consumers stopped", oldID, pt.Status.TokenID, revoked.Format(time.RFC3339Nano))
	return pt
}

// checkMovedOn checks from the consumers' logs that every pod that loaded the
// old token had stopped before it was revoked, and that the pods running now
// loaded the new one.
func (e *environment) checkMovedOn(ctx context.Context, deploy, ns, oldFP, newFP string, revoked time.Time) error {
	logs, err := e.consumerLogs(deploy + "-")
	if err != nil {
		return err
	}
	byPod := map[string]consumerLog{}
	for _, l := range logs {
		byPod[l.pod] = l
		if l.token != oldFP {
			continue
		}
		if l.stopped.IsZero() {
			return fmt.Errorf("pod %s still runs on the old token, revoked at %s", l.pod, revoked)
		}
		if !l.stopped.Before(revoked) {
			return fmt.Errorf("the old token was revoked at %s, before pod %s that had loaded it stopped at %s", revoked, l.pod, l.stopped)
		}
	}
	pods, err := e.pods(ctx, ns, map[string]string{"app": deploy})
	if err != nil {
		return err
	}
	for _, p := range pods {
		if l, ok := byPod[p.Name]; !ok || l.token != newFP {
			return fmt.Errorf("pod %s runs with token %q, not the new one %q", p.Name, byPod[p.Name].token, newFP)
		}
	}
	return nil
}

// checkOneLiveToken checks that user has exactly one token at AWX, the one in
// the token's status: no orphan, nothing left unrevoked.
func (e *environment) checkOneLiveToken(t *testing.T, ctx context.Context, user string, pt *tokensv1alpha1.PersonalToken) {
	t.Helper()
	live, err := e.liveTokens(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 1 || live[0] != pt.Status.TokenID {
		t.Fatalf("AWX user %s has live tokens %v, want exactly the current one, %d", user, live, pt.Status.TokenID)
	}
}

// checkConsumersNeverFailed checks the logs of every pod deploy ever ran: each
// made successful calls (a pod counts them every two seconds, so one just
// started is given a few), and none failed.
func (e *environment) checkConsumersNeverFailed(t *testing.T, ctx context.Context, deploy string) {
	t.Helper()
	var logs []consumerLog
	err := poll(ctx, 15*time.Second, "every consumer of "+deploy+" to have counted successful calls", func(context.Context) (bool, error) {
		var err error
		if logs, err = e.consumerLogs(deploy + "-"); err != nil {
			return false, err
		}
		for _, l := range logs {
			if l.ok == 0 {
				return false, nil
			}
		}
		return len(logs) > 0, nil
	})
	if failed := checkNoFailures(logs); failed != nil {
		t.Fatal(failed)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pods of %s made %d calls, none failed", len(logs), deploy, totalCalls(logs))
}
