package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// dhAccessKey is the Secret key of a DeviceHive access token.
const dhAccessKey = "accessToken"

// testDeviceAccessToken: a DeviceHive pair minted offline and loaded through env
// by a Deployment of 2 replicas; a rotation restarts every pod, and each runs with
// the new pair.
func testDeviceAccessToken(t *testing.T) {
	ctx := scenarioContext(t, 10*time.Minute)
	const ns, name, deploy = "e2e-dh", "sensor", "dh-consumer"
	env.mustApply(t, ctx, fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: Secret
metadata: {name: dh-jwt-secret, namespace: %[1]s}
stringData: {secret: e2e-devicehive-jwt-secret}
---
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: TokenIssuer
metadata: {name: dh, namespace: %[1]s}
spec:
  deviceHive:
    url: "http://%[3]s:8080/auth/rest"
    mode: Offline
    signingKeySecretRef: {name: dh-jwt-secret, key: secret}
  policy:
    allowedActions: [GetDevice, GetDeviceNotification]
    maxAccessTokenLifetime: 1h
---
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: DeviceAccessToken
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  issuerRef: {kind: TokenIssuer, name: dh}
  userId: 2
  actions: [GetDevice, GetDeviceNotification]
  networkIds: ["1"]
  deviceTypeIds: ["*"]
  accessTokenLifetime: 30m
  refreshTokenLifetime: 1h
  secret: {name: %[2]s-dh}
`, ns, name, env.nodeIP))
	dat, err := env.waitDeviceAccessToken(ctx, ns, name, "")
	if err != nil {
		t.Fatal(err)
	}
	oldFP, err := env.secretFingerprint(ctx, ns, dat.Spec.Secret.Name, dhAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	env.mustApply(t, ctx, env.consumerDeployment(ns, deploy, dat.Spec.Secret.Name, 2, holdEnv))
	if err := env.waitRolledOut(ctx, ns, deploy, 2*time.Minute); err != nil {
		t.Fatal(err)
	}

	if err := env.rotate(ctx, dat); err != nil {
		t.Fatal(err)
	}
	if dat, err = env.waitDeviceAccessToken(ctx, ns, name, oldFP); err != nil {
		t.Fatal(err)
	}
	newFP, err := env.secretFingerprint(ctx, ns, dat.Spec.Secret.Name, dhAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	// The operator restarts env consumers 10 s after the Secret changed.
	if err := poll(ctx, 2*time.Minute, "the consumers to run with the new pair", func(ctx context.Context) (bool, error) {
		return env.waitRolledOut(ctx, ns, deploy, time.Second) == nil &&
			env.checkMovedOn(ctx, deploy, ns, oldFP, newFP, time.Now()) == nil, nil
	}); err != nil {
		t.Fatalf("%v: %v", err, env.checkMovedOn(ctx, deploy, ns, oldFP, newFP, time.Now()))
	}
	t.Logf("every pod of %s was restarted and runs with the new pair", deploy)
}

// waitDeviceAccessToken waits for the token to be Ready with an access token
// whose fingerprint is not notFP.
func (e *environment) waitDeviceAccessToken(ctx context.Context, ns, name, notFP string) (*tokensv1alpha1.DeviceAccessToken, error) {
	var dat tokensv1alpha1.DeviceAccessToken
	err := poll(ctx, 2*time.Minute, fmt.Sprintf("DeviceAccessToken %s/%s to be Ready on a new pair", ns, name),
		func(ctx context.Context) (bool, error) {
			if err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &dat); err != nil || !isReady(dat.Status.Conditions) {
				return false, nil
			}
			fp, err := e.secretFingerprint(ctx, ns, dat.Spec.Secret.Name, dhAccessKey)
			return err == nil && fp != notFP, nil
		})
	return &dat, err
}
