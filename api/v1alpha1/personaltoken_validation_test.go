package v1alpha1_test

import (
	"strings"
	"testing"
)

const validPersonalToken = `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: PersonalToken
metadata: {name: ci-runner}
spec:
  issuerRef: {kind: ClusterTokenIssuer, name: awx-prod}
  credentialsSecretRef: {name: ci-bot-login}
  user: ci-bot
  scopes: [read, write]
  description: "CI runner"
  rotation: {maxAge: 720h, overlap: 10m}
  consumers: {restart: Auto, maxOverlap: 1h}
  secret: {name: ci-runner-awx, format: Controller}
  deletionPolicy: Revoke
`

func TestPersonalToken_APIServerValidation(t *testing.T) {
	runInvalidCases(t, newNamespace(t), validPersonalToken, []invalidCase{
		{"scope other than read or write", `{"spec":{"scopes":["read","admin"]}}`,
			"spec.scopes[1]", `Unsupported value: "admin"`},
		{"repeated scope", `{"spec":{"scopes":["read","read"]}}`,
			"spec.scopes[1]", `Duplicate value: "read"`},
		{"no scopes", `{"spec":{"scopes":[]}}`,
			"spec.scopes", "at least 1 items"},
		{"renewBefore with renewBeforePercentage", `{"spec":{"rotation":{"renewBefore":"1h","renewBeforePercentage":20}}}`,
			"spec.rotation.renewBeforePercentage", "renewBefore and renewBeforePercentage are mutually exclusive"},
		{"renewBeforePercentage 0", `{"spec":{"rotation":{"renewBeforePercentage":0}}}`,
			"spec.rotation.renewBeforePercentage", "greater than or equal to 1"},
		{"renewBeforePercentage 100", `{"spec":{"rotation":{"renewBeforePercentage":100}}}`,
			"spec.rotation.renewBeforePercentage", "less than or equal to 99"},
		{"maxAge not a duration", `{"spec":{"rotation":{"maxAge":"30 days"}}}`,
			"spec.rotation.maxAge", "should match"},
		{"maxAge under a minute", `{"spec":{"rotation":{"maxAge":"30s"}}}`,
			"spec.rotation.maxAge", "maxAge must be at least 1m"},
		{"overlap not a duration", `{"spec":{"rotation":{"overlap":"ten minutes"}}}`,
			"spec.rotation.overlap", "should match"},
		{"unknown consumers restart policy", `{"spec":{"consumers":{"restart":"Never"}}}`,
			"spec.consumers.restart", `Unsupported value: "Never"`},
		{"maxOverlap not a duration", `{"spec":{"consumers":{"maxOverlap":"an hour"}}}`,
			"spec.consumers.maxOverlap", "should match"},
		{"missing credentialsSecretRef", `{"spec":{"credentialsSecretRef":null}}`,
			"spec.credentialsSecretRef", "Required value"},
		{"missing issuerRef", `{"spec":{"issuerRef":null}}`,
			"spec.issuerRef", "Required value"},
		{"issuerRef kind is not an issuer kind", `{"spec":{"issuerRef":{"kind":"ClusterIssuer"}}}`,
			"spec.issuerRef.kind", `Unsupported value: "ClusterIssuer"`},
		{"issuerRef without a name", `{"spec":{"issuerRef":{"name":""}}}`,
			"spec.issuerRef.name", "at least 1 chars long"},
		{"Secret name not a DNS subdomain", `{"spec":{"secret":{"name":"CI_Runner"}}}`,
			"spec.secret.name", "should match"},
		{"Secret name too long", `{"spec":{"secret":{"name":"` + strings.Repeat("a", 254) + `"}}}`,
			"spec.secret.name", "may not be more than 253"},
		{"missing secret", `{"spec":{"secret":null}}`,
			"spec.secret", "Required value"},
		{"unknown secret format", `{"spec":{"secret":{"format":"Ansible"}}}`,
			"spec.secret.format", `Unsupported value: "Ansible"`},
		{"Secret label that hides ownership", `{"spec":{"secret":{"labels":{"app.kubernetes.io/managed-by":"me"}}}}`,
			"spec.secret.labels", "must not set app.kubernetes.io/managed-by"},
		{"unknown deletionPolicy", `{"spec":{"deletionPolicy":"Orphan"}}`,
			"spec.deletionPolicy", `Unsupported value: "Orphan"`},
		{"description too long", `{"spec":{"description":"` + strings.Repeat("d", 513) + `"}}`,
			"spec.description", "may not be more than 512"},
	})
}
