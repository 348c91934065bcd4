package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// An AWX token id means something only at the server, and through the API, that
// minted it: the same id at another server can be someone else's token. So each
// token records its endpoint, a change of the issuer's URL or API mints a new
// token there (IssuerChanged), and an old token is revoked, recovered or
// swept only through the endpoint that minted it.

// endpointOf is where issuer mints now; false while the API it serves has not
// been detected (the issuer has not been checked yet).
func endpointOf(issuer resolvedIssuer) (tokensv1alpha1.AWXEndpoint, bool) {
	api := issuer.awxAPI()
	return tokensv1alpha1.AWXEndpoint{URL: issuer.spec.AWX.URL, API: api}, api != tokensv1alpha1.AWXAPIAuto
}

// describeEndpoint names an endpoint in messages: "Controller API at https://awx.example.com".
func describeEndpoint(e tokensv1alpha1.AWXEndpoint) string {
	return fmt.Sprintf("%s API at %s", e.API, e.URL)
}

// remoteAt returns a session at endpoint: this reconcile's own session when the
// issuer mints there now (or endpoint is unknown: a token from before endpoints
// were recorded), else one opened there with the issuer's TLS settings and the
// PersonalToken's credentials.
func (k *personalTokenKind) remoteAt(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState, endpoint *tokensv1alpha1.AWXEndpoint) (*remoteSession, error) {
	if current, _ := endpointOf(st.issuer); endpoint == nil || *endpoint == current {
		return k.remote(ctx, pt, st)
	}
	if s, ok := k.elsewhere[*endpoint]; ok {
		return s, nil
	}
	session, err := k.openSession(ctx, pt, st, *endpoint, "the "+describeEndpoint(*endpoint)+" that minted a token",
		fmt.Sprintf("failed to reach the %s, which minted a token that must be revoked there", describeEndpoint(*endpoint)))
	if err != nil {
		return nil, err
	}
	if k.elsewhere == nil {
		k.elsewhere = map[tokensv1alpha1.AWXEndpoint]*remoteSession{}
	}
	k.elsewhere[*endpoint] = session
	return session, nil
}

// mintedEndpoint is where pt's current token was minted: as status records it,
// or, for a token minted before endpoints were recorded, the host its Secret
// holds, through api; nil when neither tells.
func mintedEndpoint(pt *tokensv1alpha1.PersonalToken, secret *corev1.Secret, api tokensv1alpha1.AWXAPI) *tokensv1alpha1.AWXEndpoint {
	if pt.Status.Endpoint != nil {
		return pt.Status.Endpoint
	}
	keys := personalTokenSecretKeys[pt.Spec.Secret.Format]
	if _, held := heldValue(secret, pt.Status.TokenID); !held || keys.host == "" || len(secret.Data[keys.host]) == 0 {
		return nil
	}
	return &tokensv1alpha1.AWXEndpoint{URL: string(secret.Data[keys.host]), API: api}
}

// sameEndpoint tells whether two endpoints are the same; an unknown one (nil)
// is the same only as another unknown one.
func sameEndpoint(a, b *tokensv1alpha1.AWXEndpoint) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
