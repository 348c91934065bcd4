package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// baseDeviceAccessToken is a valid spec with no status.
func baseDeviceAccessToken() *tokensv1alpha1.DeviceAccessToken {
	return &tokensv1alpha1.DeviceAccessToken{
		ObjectMeta: metav1.ObjectMeta{Name: "sensor", Namespace: "iot"},
		Spec: tokensv1alpha1.DeviceAccessTokenSpec{
			IssuerRef:            tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "devicehive"},
			UserID:               2,
			Actions:              []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification"},
			NetworkIDs:           []string{"1", "3"},
			DeviceTypeIDs:        []string{"*"},
			AccessTokenLifetime:  metav1.Duration{Duration: 30 * time.Minute},
			RefreshTokenLifetime: metav1.Duration{Duration: 168 * time.Hour},
			Secret:               tokensv1alpha1.SecretTemplate{Name: "sensor-dh"},
		},
	}
}

func Test_deviceAccessTokenKind_checkPolicy(t *testing.T) {
	issuer := func(policy *tokensv1alpha1.IssuerPolicy) resolvedIssuer {
		return resolvedIssuer{
			ref:  tokensv1alpha1.IssuerRef{Kind: tokensv1alpha1.TokenIssuerKind, Name: "devicehive"},
			spec: tokensv1alpha1.TokenIssuerSpec{DeviceHive: &tokensv1alpha1.DeviceHiveIssuer{}, Policy: policy},
		}
	}
	tests := []struct {
		name    string
		policy  *tokensv1alpha1.IssuerPolicy
		mutate  func(*tokensv1alpha1.DeviceAccessToken)
		wantErr string // empty: allowed
	}{
		{name: "no policy allows every action and device types wildcard"},
		{name: "no policy refuses a wildcard network",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} },
			wantErr: `spec.networkIds: ["*"] is not allowed by TokenIssuer "devicehive" (policy.allowWildcardNetworks is not true)`},
		{name: "allowWildcardNetworks false refuses it",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowWildcardNetworks: ptr.To(false)},
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} },
			wantErr: "policy.allowWildcardNetworks is not true"},
		{name: "allowWildcardNetworks true allows it",
			policy: &tokensv1alpha1.IssuerPolicy{AllowWildcardNetworks: ptr.To(true)},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} }},
		{name: "allowWildcardDeviceTypes false refuses a wildcard device type",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowWildcardDeviceTypes: ptr.To(false)},
			wantErr: `spec.deviceTypeIds: ["*"] is not allowed by TokenIssuer "devicehive" (policy.allowWildcardDeviceTypes is false)`},
		{name: "allowWildcardDeviceTypes false allows listed device types",
			policy: &tokensv1alpha1.IssuerPolicy{AllowWildcardDeviceTypes: ptr.To(false)},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.DeviceTypeIDs = []string{"4"} }},
		{name: "no policy refuses ManageToken, which would mint tokens of any rights",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = append(d.Spec.Actions, "ManageToken") },
			wantErr: `spec.actions: "ManageToken" is privileged and TokenIssuer "devicehive" does not list it in policy.allowedActions`},
		{name: "no policy refuses an admin action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"ManageUser"}
			},
			wantErr: `spec.actions: "ManageUser" is privileged`},
		{name: "a privileged action listed by name is allowed",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification", "ManageToken"}},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = append(d.Spec.Actions, "ManageToken") }},
		{name: "allowedActions allows a subset",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDeviceNotification", "GetNetwork"}}},
		{name: "allowedActions refuses another action",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedActions: []tokensv1alpha1.DeviceHiveAction{"GetDevice"}},
			wantErr: `spec.actions: "GetDeviceNotification" is not allowed by TokenIssuer "devicehive" (policy.allowedActions: [GetDevice])`},
		{name: "UpdateCurrentUser, which changes the user's password, is privileged",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"UpdateCurrentUser"}
			},
			wantErr: `spec.actions: "UpdateCurrentUser" is privileged`},
		{name: "allowedUserIds allows a listed user",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"2", "9"}}},
		{name: "allowedUserIds refuses another user, the administrator say",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"9"}},
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.UserID = 1 },
			wantErr: `spec.userId: 1 is not allowed by TokenIssuer "devicehive" (policy.allowedUserIds: [9])`},
		{name: "allowedUserIds * allows any user",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedUserIDs: []string{"*"}},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.UserID = 1 }},
		{name: "allowedNetworkIds allows listed networks",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedNetworkIDs: []string{"1", "3", "5"}}},
		{name: "allowedNetworkIds refuses a network it does not list",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedNetworkIDs: []string{"1"}},
			wantErr: `spec.networkIds: "3" is not allowed by TokenIssuer "devicehive" (policy.allowedNetworkIds: [1])`},
		{name: "allowedNetworkIds without * refuses a wildcard network even where wildcards are allowed",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedNetworkIDs: []string{"1"}, AllowWildcardNetworks: ptr.To(true)},
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"*"} },
			wantErr: `spec.networkIds: "*" is not allowed`},
		{name: "allowedDeviceTypeIds refuses the wildcard it does not list",
			policy:  &tokensv1alpha1.IssuerPolicy{AllowedDeviceTypeIDs: []string{"4"}},
			wantErr: `spec.deviceTypeIds: "*" is not allowed by TokenIssuer "devicehive" (policy.allowedDeviceTypeIds: [4])`},
		{name: "allowedDeviceTypeIds allows a listed device type",
			policy: &tokensv1alpha1.IssuerPolicy{AllowedDeviceTypeIDs: []string{"4"}},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.DeviceTypeIDs = []string{"4"} }},
		{name: "without a cap, an access lifetime above 24h is refused",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.AccessTokenLifetime = metav1.Duration{Duration: 25 * time.Hour}
				d.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 48 * time.Hour}
			},
			wantErr: "spec.accessTokenLifetime: 25h0m0s is longer than the 24h0m0s allowed"},
		{name: "without a cap, a refresh lifetime above 30 days is refused",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 721 * time.Hour}
			},
			wantErr: "spec.refreshTokenLifetime: 721h0m0s is longer than the 720h0m0s allowed"},
		{name: "a cap above the default allows more",
			policy: &tokensv1alpha1.IssuerPolicy{MaxRefreshTokenLifetime: &metav1.Duration{Duration: 2000 * time.Hour}},
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.RefreshTokenLifetime = metav1.Duration{Duration: 1000 * time.Hour}
			}},
		{name: "access lifetime at the max",
			policy: &tokensv1alpha1.IssuerPolicy{MaxAccessTokenLifetime: &metav1.Duration{Duration: 30 * time.Minute}}},
		{name: "access lifetime above the max",
			policy:  &tokensv1alpha1.IssuerPolicy{MaxAccessTokenLifetime: &metav1.Duration{Duration: 10 * time.Minute}},
			wantErr: `spec.accessTokenLifetime: 30m0s is longer than the 10m0s allowed by TokenIssuer "devicehive" (policy.maxAccessTokenLifetime)`},
		{name: "refresh lifetime above the max",
			policy:  &tokensv1alpha1.IssuerPolicy{MaxRefreshTokenLifetime: &metav1.Duration{Duration: 24 * time.Hour}},
			wantErr: `spec.refreshTokenLifetime: 168h0m0s is longer than the 24h0m0s allowed by TokenIssuer "devicehive" (policy.maxRefreshTokenLifetime)`},
		// Below: what the CRD already refuses, refused again before DeviceHive widens it.
		{name: "empty actions",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = nil },
			wantErr: "spec.actions: must not be empty"},
		{name: "unknown action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"getdevice"}
			},
			wantErr: `spec.actions: unknown action "getdevice"`},
		{name: "repeated action",
			mutate: func(d *tokensv1alpha1.DeviceAccessToken) {
				d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"GetDevice", "GetDevice"}
			},
			wantErr: `spec.actions: action "GetDevice" is repeated`},
		{name: "wildcard action",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.Actions = []tokensv1alpha1.DeviceHiveAction{"*"} },
			wantErr: "spec.actions:"},
		{name: "non-numeric network",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.NetworkIDs = []string{"north"} },
			wantErr: "spec.networkIds:"},
		{name: "no device types",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.DeviceTypeIDs = nil },
			wantErr: "spec.deviceTypeIds: must not be empty"},
		{name: "user 0",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.UserID = 0 },
			wantErr: "spec.userId: must be at least 1"},
		{name: "zero lifetime",
			mutate:  func(d *tokensv1alpha1.DeviceAccessToken) { d.Spec.AccessTokenLifetime = metav1.Duration{} },
			wantErr: "spec.accessTokenLifetime (0s) must be at least 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dat := baseDeviceAccessToken()
			if tt.mutate != nil {
				tt.mutate(dat)
			}
			err := (&deviceAccessTokenKind{}).checkPolicy(dat, issuer(tt.policy))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want allowed, got %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("want refused with %q, got allowed", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("want an error containing %q, got %q", tt.wantErr, err)
			}
		})
	}
}
