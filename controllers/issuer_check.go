package controllers

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// check returns the Ready message of an issuer that can mint, or why it cannot.
// namespace is a TokenIssuer's own. It mints nothing: AWX is asked without
// credentials (an AWX issuer holds none; each PersonalToken brings its own), a
// DeviceHive issuer in API mode logs in or refreshes its access token, and an
// Offline one only has its key checked.
func (r *IssuerReconciler) check(ctx context.Context, issuer resolvedIssuer, namespace string, status *tokensv1alpha1.TokenIssuerStatus) (string, error) {
	if selector := issuer.policy().NamespaceSelector; selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(selector); err != nil {
			return "", reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason, fmt.Errorf("spec.policy.namespaceSelector: %w", err))
		}
	}
	switch {
	case issuer.spec.AWX != nil:
		return r.checkAWX(ctx, issuer, status)
	case issuer.spec.DeviceHive != nil:
		return r.checkDeviceHive(ctx, deviceHiveIssuer{TokenDeps: r.TokenDeps, issuer: issuer, namespace: namespace,
			operatorNamespace: r.OperatorNamespace})
	}
	return "", reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason, fmt.Errorf("%s has neither awx nor deviceHive: set one", issuer))
}

// checkAWX detects or checks the token API the server serves and records it in
// status.awxAPI for the tokens to use.
func (r *IssuerReconciler) checkAWX(ctx context.Context, issuer resolvedIssuer, status *tokensv1alpha1.TokenIssuerStatus) (string, error) {
	spec := issuer.spec.AWX
	api, err := awx.New(awx.Config{URL: spec.URL, API: awx.API(spec.API), CABundle: spec.CABundle,
		InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify, Timeout: r.RemoteTimeout}, awx.Credentials{})
	if err != nil {
		return "", reconcile.Stall(tokensv1alpha1.ConfigurationInvalidReason, fmt.Errorf("%s: %w", issuer, err))
	}
	served, err := api.Probe(ctx)
	switch {
	case errors.Is(err, awx.ErrAPINotServed):
		status.AWXAPI = ""
		return "", reconcile.StallAndRetry(tokensv1alpha1.APIMismatchReason, r.CheckInterval,
			fmt.Errorf("%w: check spec.awx.url, or set spec.awx.api to Auto", err))
	case err != nil:
		return "", reconcile.Fail(tokensv1alpha1.RemoteErrorReason, fmt.Errorf("failed to reach AWX for %s: %w", issuer, err))
	}
	status.AWXAPI = tokensv1alpha1.AWXAPI(served)
	return fmt.Sprintf("AWX serves the %s token API", served), nil
}

// checkDeviceHive checks an Offline issuer's signing key, or that an API-mode
// issuer's credentials are accepted.
func (r *IssuerReconciler) checkDeviceHive(ctx context.Context, dh deviceHiveIssuer) (string, error) {
	if dh.issuer.spec.DeviceHive.Mode == tokensv1alpha1.DeviceHiveModeOffline {
		_, secretName, _, err := dh.signer(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("signs DeviceHive tokens offline with the key in Secret %q", secretName), nil
	}
	creds, err := dh.credentials(ctx)
	if err != nil {
		return "", err
	}
	api, err := dh.client()
	if err != nil {
		return "", err
	}
	switch {
	case creds.login != "" && creds.password != "":
		if _, _, err := dh.bearer(ctx, api, creds); err != nil {
			return "", err
		}
		return fmt.Sprintf("logged in to DeviceHive as %q from Secret %q", creds.login, creds.secretName), nil
	case creds.refresh != "":
		if _, err := dh.refreshBearer(ctx, api, creds); err != nil {
			return "", err
		}
		return fmt.Sprintf("DeviceHive renewed the access token of Secret %q", creds.secretName), nil
	}
	if _, _, err := dh.bearer(ctx, api, creds); err != nil {
		return "", err
	}
	return fmt.Sprintf("the access token of Secret %q has not expired; without a refreshToken it cannot be renewed", creds.secretName), nil
}
