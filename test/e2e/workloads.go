package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// readMode is how a consumer reads its token's Secret.
type readMode string

const (
	// readEnv loads CONTROLLER_HOST and CONTROLLER_OAUTH_TOKEN with envFrom.
	readEnv readMode = "env"
	// readVolume mounts the Secret and reads its files before every call.
	readVolume readMode = "file"
	// holdEnv loads a DeviceHive pair with envFrom and only logs it.
	holdEnv readMode = "hold"
)

// consumerDeployment is a Deployment of the consumer test program reading
// secret, with a readiness probe that passes once a call has succeeded and the
// default rolling update (with 2 replicas: one new pod at a time, none
// unavailable).
func (e *environment) consumerDeployment(ns, name, secret string, replicas int, mode readMode) string {
	var reads, mounts string
	switch mode {
	case readVolume:
		mounts = fmt.Sprintf(`
        - {name: token, mountPath: /secret, readOnly: true}
      volumes:
      - {name: logs, hostPath: {path: %q, type: Directory}}
      - {name: token, secret: {secretName: %s}}`, e.consumerLogDir, secret)
	default:
		reads = fmt.Sprintf(`
        envFrom: [{secretRef: {name: %s}}]`, secret)
		mounts = fmt.Sprintf(`
      volumes:
      - {name: logs, hostPath: {path: %q, type: Directory}}`, e.consumerLogDir)
	}
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: consumer
        image: %[4]s
        imagePullPolicy: Never
        args: ["-mode=%[5]s", "-log-dir=/logs"]
        env:
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}%[6]s
        readinessProbe:
          httpGet: {path: /readyz, port: 8080}
          periodSeconds: 1
        volumeMounts:
        - {name: logs, mountPath: /logs}%[7]s
`, name, ns, replicas, consumerImage, mode, reads, mounts)
}

// awxToken is a namespace with the login Secret of one of awxUsers and a
// PersonalToken of read scope for it in Secret NAME-awx, revoked on deletion.
func (e *environment) awxToken(ns, name, user string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: Secret
metadata: {name: %[3]s-login, namespace: %[1]s}
stringData: {username: %[3]s, password: %[3]s-password}
---
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: PersonalToken
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  issuerRef: {kind: ClusterTokenIssuer, name: %[4]s}
  credentialsSecretRef: {name: %[3]s-login}
  user: %[3]s
  scopes: [read]
  description: "e2e %[2]s"
  secret: {name: %[2]s-awx, format: Controller}
  deletionPolicy: Revoke
`, ns, name, user, issuerName)
}

// awxTokenWithConsumers applies awxToken and, once it is Ready, a consumer
// Deployment of 2 replicas reading its Secret, and waits for it to roll out.
func (e *environment) awxTokenWithConsumers(t *testing.T, ctx context.Context, ns, name, user, deploy string, mode readMode) *tokensv1alpha1.PersonalToken {
	t.Helper()
	e.mustApply(t, ctx, e.awxToken(ns, name, user))
	pt, err := e.waitPersonalToken(ctx, ns, name, 0, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	e.mustApply(t, ctx, e.consumerDeployment(ns, deploy, pt.Spec.Secret.Name, 2, mode))
	if err := e.waitRolledOut(ctx, ns, deploy, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	return pt
}

// mustApply applies manifests or ends the test.
func (e *environment) mustApply(t *testing.T, ctx context.Context, manifests string) {
	t.Helper()
	if err := e.apply(ctx, manifests); err != nil {
		t.Fatal(err)
	}
}

func scenarioContext(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
