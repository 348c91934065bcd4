package v1alpha1_test

import "testing"

const validAWXIssuer = `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: TokenIssuer
metadata: {name: awx}
spec:
  awx: {url: "https://awx.example.com", api: Auto}
  policy: {allowedScopes: [read, write], maxAge: 2160h}
`

const validDeviceHiveIssuer = `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: TokenIssuer
metadata: {name: devicehive}
spec:
  deviceHive:
    url: "https://dh.example.com/auth/rest"
    mode: Offline
    signingKeySecretRef: {name: dh-jwt-secret, key: secret}
  policy: {allowedActions: [GetDevice, GetDeviceNotification], allowWildcardNetworks: false, maxAccessTokenLifetime: 1h}
`

const validClusterIssuer = `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: ClusterTokenIssuer
metadata: {name: awx-prod}
spec:
  awx: {url: "https://awx.example.com", api: Gateway}
  policy: {allowedScopes: [read], allowedNamespaces: [ci, iot]}
`

func TestTokenIssuer_APIServerValidation(t *testing.T) {
	ns := newNamespace(t)
	t.Run("awx", func(t *testing.T) {
		runInvalidCases(t, ns, validAWXIssuer, []invalidCase{
			{"neither awx nor deviceHive", `{"spec":{"awx":null}}`,
				"spec", "exactly one of awx or deviceHive must be set"},
			{"both awx and deviceHive", `{"spec":{"deviceHive":{"url":"https://dh.example.com/auth/rest","mode":"API","credentialsSecretRef":{"name":"dh"}}}}`,
				"spec", "exactly one of awx or deviceHive must be set"},
			{"url with another scheme", `{"spec":{"awx":{"url":"ftp://awx.example.com"}}}`,
				"spec.awx.url", "url must be an http or https URL"},
			{"url without a scheme", `{"spec":{"awx":{"url":"awx.example.com"}}}`,
				"spec.awx.url", "url must be an http or https URL"},
			{"missing url", `{"spec":{"awx":{"url":null}}}`,
				"spec.awx.url", "Required value"},
			{"unknown api", `{"spec":{"awx":{"api":"V3"}}}`,
				"spec.awx.api", `Unsupported value: "V3"`},
			{"caBundle with insecureSkipTLSVerify", `{"spec":{"awx":{"caBundle":"Y2E=","insecureSkipTLSVerify":true}}}`,
				"spec.awx.insecureSkipTLSVerify", "caBundle and insecureSkipTLSVerify are mutually exclusive"},
			{"DeviceHive policy on an awx issuer", `{"spec":{"policy":{"allowedActions":["GetDevice"]}}}`,
				"spec.policy", "apply to deviceHive issuers only"},
			{"allowedNamespaces on a namespaced issuer", `{"spec":{"policy":{"allowedNamespaces":["ci"]}}}`,
				"spec.policy.allowedNamespaces", "for ClusterTokenIssuer only"},
			{"namespaceSelector on a namespaced issuer", `{"spec":{"policy":{"namespaceSelector":{"matchLabels":{"team":"ci"}}}}}`,
				"spec.policy.namespaceSelector", "for ClusterTokenIssuer only"},
			{"DeviceHive users on an awx issuer", `{"spec":{"policy":{"allowedUserIds":["2"]}}}`,
				"spec.policy", "apply to deviceHive issuers only"},
			{"unknown allowed scope", `{"spec":{"policy":{"allowedScopes":["admin"]}}}`,
				"spec.policy.allowedScopes[0]", `Unsupported value: "admin"`},
		})
	})
	t.Run("deviceHive", func(t *testing.T) {
		runInvalidCases(t, ns, validDeviceHiveIssuer, []invalidCase{
			{"Offline mode without signingKeySecretRef", `{"spec":{"deviceHive":{"signingKeySecretRef":null}}}`,
				"spec.deviceHive.signingKeySecretRef", "signingKeySecretRef is required when mode is Offline"},
			{"API mode without credentialsSecretRef", `{"spec":{"deviceHive":{"mode":"API"}}}`,
				"spec.deviceHive.credentialsSecretRef", "credentialsSecretRef is required when mode is API"},
			{"missing mode", `{"spec":{"deviceHive":{"mode":null}}}`,
				"spec.deviceHive.mode", "Required value"},
			{"unknown mode", `{"spec":{"deviceHive":{"mode":"Online"}}}`,
				"spec.deviceHive.mode", `Unsupported value: "Online"`},
			{"url that is not a URL", `{"spec":{"deviceHive":{"url":"dh example"}}}`,
				"spec.deviceHive.url", "url must be an http or https URL"},
			{"AWX policy on a deviceHive issuer", `{"spec":{"policy":{"allowedScopes":["read"]}}}`,
				"spec.policy", "apply to awx issuers only"},
			{"AWX users on a deviceHive issuer", `{"spec":{"policy":{"allowedUsers":["ci-bot"]}}}`,
				"spec.policy", "apply to awx issuers only"},
			{"a user id that is not a number", `{"spec":{"policy":{"allowedUserIds":["admin"]}}}`,
				"spec.policy.allowedUserIds[0]", "should match"},
			{"a wildcard network without allowWildcardNetworks", `{"spec":{"policy":{"allowedNetworkIds":["1","*"]}}}`,
				"spec.policy.allowedNetworkIds", "may hold '*' only with allowWildcardNetworks: true"},
			{"a wildcard device type where wildcards are refused", `{"spec":{"policy":{"allowWildcardDeviceTypes":false,"allowedDeviceTypeIds":["*"]}}}`,
				"spec.policy.allowedDeviceTypeIds", "may not hold '*' when allowWildcardDeviceTypes is false"},
			{"unknown allowed action", `{"spec":{"policy":{"allowedActions":["GetDevice","DoAnything"]}}}`,
				"spec.policy.allowedActions[1]", `Unsupported value: "DoAnything"`},
			{"longest access lifetime under a minute", `{"spec":{"policy":{"maxAccessTokenLifetime":"10s"}}}`,
				"spec.policy.maxAccessTokenLifetime", "maxAccessTokenLifetime must be at least 1m"},
		})
	})
}

func TestClusterTokenIssuer_APIServerValidation(t *testing.T) {
	runInvalidCases(t, "", validClusterIssuer, []invalidCase{
		{"neither awx nor deviceHive", `{"spec":{"awx":null,"policy":null}}`,
			"spec", "exactly one of awx or deviceHive must be set"},
		{"url with another scheme", `{"spec":{"awx":{"url":"file:///etc/passwd"}}}`,
			"spec.awx.url", "url must be an http or https URL"},
		{"allowed namespace that is not a namespace name", `{"spec":{"policy":{"allowedNamespaces":["CI_Jobs"]}}}`,
			"spec.policy.allowedNamespaces[0]", "should match"},
		{"DeviceHive without allowedUserIds: any namespace could mint for any user", `{"spec":{"awx":null,"deviceHive":{"url":"https://dh.example.com/auth/rest","mode":"Offline","signingKeySecretRef":{"name":"dh-jwt-secret"}},"policy":{"allowedScopes":null}}}`,
			"spec.policy", "a ClusterTokenIssuer for DeviceHive needs spec.policy.allowedUserIds"},
		{"DeviceHive with an empty allowedUserIds", `{"spec":{"awx":null,"deviceHive":{"url":"https://dh.example.com/auth/rest","mode":"Offline","signingKeySecretRef":{"name":"dh-jwt-secret"}},"policy":{"allowedScopes":null,"allowedUserIds":[]}}}`,
			"spec.policy", "a ClusterTokenIssuer for DeviceHive needs spec.policy.allowedUserIds"},
	})
}
