package e2e

import (
	"testing"
	"time"
)

// testEnvConsumers: a Deployment of 2 replicas loads the token with envFrom;
// three rotations restart it each time, no call fails, and each old token is
// revoked only after the last pod that had loaded it stopped.
func testEnvConsumers(t *testing.T) {
	ctx := scenarioContext(t, 15*time.Minute)
	const ns, name, user, deploy = "e2e-env", "runner", "env-bot", "env-consumer"
	pt := env.awxTokenWithConsumers(t, ctx, ns, name, user, deploy, readEnv)
	for i := 0; i < 3; i++ {
		pt = env.rotateEnvConsumed(t, ctx, pt, deploy, nil)
	}
	env.checkConsumersNeverFailed(t, ctx, deploy)
	env.checkOneLiveToken(t, ctx, user, pt)
}
