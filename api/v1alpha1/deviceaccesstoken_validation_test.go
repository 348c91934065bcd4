package v1alpha1_test

import "testing"

const validDeviceAccessToken = `
apiVersion: tokens.tokenoperator.io/v1alpha1
kind: DeviceAccessToken
metadata: {name: sensor-reader}
spec:
  issuerRef: {kind: TokenIssuer, name: devicehive}
  userId: 2
  actions: [GetDevice, GetDeviceNotification]
  networkIds: ["1", "3"]
  deviceTypeIds: ["*"]
  accessTokenLifetime: 30m
  refreshTokenLifetime: 168h
  rotation: {renewBeforePercentage: 33}
  secret: {name: sensor-reader-dh}
`

func TestDeviceAccessToken_APIServerValidation(t *testing.T) {
	runInvalidCases(t, newNamespace(t), validDeviceAccessToken, []invalidCase{
		// DeviceHive reads an empty action list as every action.
		{"empty actions", `{"spec":{"actions":[]}}`,
			"spec.actions", "at least 1 items"},
		{"missing actions", `{"spec":{"actions":null}}`,
			"spec.actions", "Required value"},
		// DeviceHive silently drops names it does not know.
		{"action not in the DeviceHive table", `{"spec":{"actions":["GetDevice","GetEverything"]}}`,
			"spec.actions[1]", `Unsupported value: "GetEverything"`},
		{"action in the wrong case", `{"spec":{"actions":["getdevice"]}}`,
			"spec.actions[0]", `Unsupported value: "getdevice"`},
		{"wildcard action", `{"spec":{"actions":["*"]}}`,
			"spec.actions[0]", `Unsupported value: "*"`},
		{"repeated action", `{"spec":{"actions":["GetDevice","GetDevice"]}}`,
			"spec.actions[1]", `Duplicate value: "GetDevice"`},
		{"userId 0", `{"spec":{"userId":0}}`,
			"spec.userId", "greater than or equal to 1"},
		{"missing userId", `{"spec":{"userId":null}}`,
			"spec.userId", "Required value"},
		{"network id that is not digits", `{"spec":{"networkIds":["1","north"]}}`,
			"spec.networkIds[1]", "should match"},
		{"wildcard network mixed with ids", `{"spec":{"networkIds":["*","1"]}}`,
			"spec.networkIds", "'*' cannot be mixed with ids"},
		{"no networks", `{"spec":{"networkIds":[]}}`,
			"spec.networkIds", "at least 1 items"},
		{"device type id that is negative", `{"spec":{"deviceTypeIds":["-1"]}}`,
			"spec.deviceTypeIds[0]", "should match"},
		{"wildcard device type mixed with ids", `{"spec":{"deviceTypeIds":["2","*"]}}`,
			"spec.deviceTypeIds", "'*' cannot be mixed with ids"},
		{"refresh lifetime shorter than access lifetime", `{"spec":{"accessTokenLifetime":"2h","refreshTokenLifetime":"1h"}}`,
			"spec.refreshTokenLifetime", "refreshTokenLifetime must be at least accessTokenLifetime"},
		{"access lifetime under a minute", `{"spec":{"accessTokenLifetime":"30s"}}`,
			"spec.accessTokenLifetime", "accessTokenLifetime must be at least 1m"},
		{"refresh lifetime under a minute", `{"spec":{"accessTokenLifetime":"1m","refreshTokenLifetime":"59s"}}`,
			"spec.refreshTokenLifetime", "refreshTokenLifetime must be at least 1m"},
		{"lifetime not a duration", `{"spec":{"accessTokenLifetime":"1 hour"}}`,
			"spec.accessTokenLifetime", "should match"},
		{"rotation overlap, which DeviceHive cannot honour", `{"spec":{"rotation":{"overlap":"5m"}}}`,
			"spec.rotation.overlap", "DeviceHive cannot revoke tokens"},
		{"renewBefore not shorter than the access lifetime", `{"spec":{"rotation":{"renewBeforePercentage":null,"renewBefore":"30m"}}}`,
			"spec.rotation.renewBefore", "rotation.renewBefore must be shorter than accessTokenLifetime"},
		{"issuerRef kind is not an issuer kind", `{"spec":{"issuerRef":{"kind":"Issuer"}}}`,
			"spec.issuerRef.kind", `Unsupported value: "Issuer"`},
		{"Secret name not a DNS subdomain", `{"spec":{"secret":{"name":"-sensor"}}}`,
			"spec.secret.name", "should match"},
	})
}
