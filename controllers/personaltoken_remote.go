package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// awxTokenAPI is what the PersonalToken reconciler needs of an AWX client.
type awxTokenAPI interface {
	Me(ctx context.Context) (awx.User, error)
	CreateToken(ctx context.Context, req awx.CreateRequest) (awx.CreatedToken, error)
	UpdateToken(ctx context.Context, id int64, upd awx.Update) (awx.Token, error)
	DeleteToken(ctx context.Context, id int64) error
	ListTokens(ctx context.Context, opts awx.ListOptions) ([]awx.Token, error)
}

// remoteSession is an AWX client authenticated as the token's user, made once per
// reconcile and only when a remote call is due.
type remoteSession struct {
	api awxTokenAPI
	me  awx.User
}

// remote returns the session of this reconcile, creating it on first use: it reads
// the credentials Secret and asks AWX who they belong to.
func (k *personalTokenKind) remote(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState) (*remoteSession, error) {
	if k.session != nil {
		return k.session, nil
	}
	// Deleting revokes through the issuer whatever its last check said.
	if pt.DeletionTimestamp.IsZero() {
		if err := st.issuer.checkReady(); err != nil {
			return nil, err
		}
	}
	session, err := k.openSession(ctx, pt, st, tokensv1alpha1.AWXEndpoint{URL: st.issuer.spec.AWX.URL, API: st.issuer.awxAPI()},
		st.issuer.String(), "failed to identify the AWX user")
	if err != nil {
		return nil, err
	}
	k.session = session
	return k.session, nil
}

// openSession reads the credentials and asks the AWX at endpoint who they
// belong to; where and failed name it in errors. The issuer's TLS settings
// apply, and each call takes room with the issuer (RemoteBudget).
func (k *personalTokenKind) openSession(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState,
	endpoint tokensv1alpha1.AWXEndpoint, where, failed string) (*remoteSession, error) {
	read, err := k.identify(ctx, pt, st, endpoint, where, failed)
	if err != nil {
		return nil, err
	}
	client, api, err := k.client(pt, st, endpoint, where, read.value.creds)
	if err != nil {
		return nil, err
	}
	learnt := read.value.learnt[endpoint]
	client.StartFrom(learnt)
	me, _ := learnt.User()
	return &remoteSession{api: api, me: me}, nil
}

// identify returns the credentials of pt with what an AWX client learnt with
// them at endpoint: the user they belong to, and where the API is. It asks AWX
// once per version of the Secret; tokens that share the Secret and the issuer
// and need it at once wait for one of them to ask.
func (k *personalTokenKind) identify(ctx context.Context, pt *tokensv1alpha1.PersonalToken, st *tokenState,
	endpoint tokensv1alpha1.AWXEndpoint, where, failed string) (readVersion[awxCredentials], error) {
	key := credentialsKey(pt)
	if v, current := k.r.credentials.lookup(ctx, key); current && v.value.knows(endpoint) {
		return v, nil
	}
	// The issuer's generation stands for its TLS settings.
	purpose := fmt.Sprintf("%s@%d %s %s %s", st.issuer, st.issuer.generation, endpoint.URL, endpoint.API, failed)
	return k.r.credentials.share(ctx, key, purpose, k.room(pt, st), func() (readVersion[awxCredentials], error) {
		read, err := k.credentials(ctx, pt)
		if err != nil || read.value.knows(endpoint) {
			return read, err
		}
		// share holds room with the issuer for this call.
		client, _, err := k.client(pt, st, endpoint, where, read.value.creds)
		if err != nil {
			return readVersion[awxCredentials]{}, err
		}
		if _, err := client.Me(ctx); err != nil {
			return readVersion[awxCredentials]{}, awxError(pt, failed, err)
		}
		// Under the version read: if another one was remembered since, the
		// next lookup sees the difference and reads the Secret again.
		read.value = k.r.credentials.update(key, read.resourceVersion, read.value, func(v awxCredentials) awxCredentials {
			return v.withLearnt(endpoint, client.Learnt())
		})
		return read, nil
	})
}

// client returns an AWX client at endpoint with creds, under the issuer's TLS
// settings, and the API it calls through, each call taking room with the
// issuer.
func (k *personalTokenKind) client(pt *tokensv1alpha1.PersonalToken, st *tokenState, endpoint tokensv1alpha1.AWXEndpoint,
	where string, creds awx.Credentials) (*awx.Client, awxTokenAPI, error) {
	spec := st.issuer.spec.AWX
	client, err := awx.New(awx.Config{URL: endpoint.URL, API: awx.API(endpoint.API), CABundle: spec.CABundle,
		InsecureSkipTLSVerify: spec.InsecureSkipTLSVerify, Timeout: k.r.RemoteTimeout}, creds)
	if err != nil {
		return nil, nil, reconcile.Stall(tokensv1alpha1.IssuerMismatchReason, fmt.Errorf("%s: %w", where, err))
	}
	return client, budgetedAWX{api: client, take: k.room(pt, st)}, nil
}

// room takes room with pt's issuer for a remote call (RemoteBudget).
func (k *personalTokenKind) room(pt *tokensv1alpha1.PersonalToken, st *tokenState) func(context.Context) (func(), error) {
	return func(ctx context.Context) (func(), error) { return k.r.Budget.take(ctx, pt.Namespace, st.issuer) }
}

// credentials returns the credentials of a PersonalToken, with the version of
// the Secret that holds them and what was learnt with them, only when a remote
// call is due. The Secret is not one the operator owns: it is read from the API
// server, unless the version the credentials cache shows was read before
// (secretVersions).
func (k *personalTokenKind) credentials(ctx context.Context, pt *tokensv1alpha1.PersonalToken) (readVersion[awxCredentials], error) {
	key := credentialsKey(pt)
	if v, current := k.r.credentials.lookup(ctx, key); current {
		return v, nil
	}
	secret := &corev1.Secret{}
	err := k.r.APIReader.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		return readVersion[awxCredentials]{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("credentials Secret %q not found: create it with username and password, or token", key.Name))
	}
	if err != nil {
		return readVersion[awxCredentials]{}, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read credentials Secret %q: %w", key.Name, err))
	}
	markCredentials(ctx, k.r.Client, secret)
	username, password, token := secret.Data["username"], secret.Data["password"], secret.Data["token"]
	var creds awx.Credentials
	switch {
	case len(username) > 0 && len(password) > 0:
		creds = awx.Credentials{Username: string(username), Password: awx.Secret(password)}
	case len(token) > 0:
		creds = awx.Credentials{Token: awx.Secret(token)}
	default:
		return readVersion[awxCredentials]{}, reconcile.Wait(tokensv1alpha1.CredentialsNotFoundReason, credentialsRetryInterval,
			fmt.Errorf("credentials Secret %q has neither username and password nor token", key.Name))
	}
	// Labelling the Secret made a version of it with the same data.
	return readVersion[awxCredentials]{resourceVersion: secret.ResourceVersion,
		value: k.r.credentials.keep(key, secret.ResourceVersion, awxCredentials{creds: creds})}, nil
}

// checkUser refuses credentials that belong to another user than spec.user: AWX
// mints a token only for the caller.
func checkUser(pt *tokensv1alpha1.PersonalToken, me awx.User) error {
	if pt.Spec.User == "" || pt.Spec.User == me.Username {
		return nil
	}
	return reconcile.Stall(tokensv1alpha1.UserMismatchReason,
		fmt.Errorf("credentials Secret %q belongs to AWX user %q, not spec.user %q: fix the Secret or spec.user",
			pt.Spec.CredentialsSecretRef.Name, me.Username, pt.Spec.User))
}

// awxError maps an AWX failure to how it is retried. Refusals the user must fix
// stall; failures that may pass are retried with backoff.
func awxError(pt *tokensv1alpha1.PersonalToken, action string, err error) error {
	if isIssuerBusy(err) {
		return err
	}
	err = fmt.Errorf("%s: %w", action, err)
	switch {
	case awx.IsExternalProviderRefusal(err):
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: the AWX user comes from an external provider; use a local user or set ALLOW_OAUTH2_FOR_EXTERNAL_USERS", err))
	case awx.IsUnauthorized(err), awx.IsForbidden(err):
		return reconcile.StallAndRetry(tokensv1alpha1.AuthenticationFailedReason, authRetryInterval,
			fmt.Errorf("%w: fix the credentials in Secret %q (a token needs write scope)", err, pt.Spec.CredentialsSecretRef.Name))
	case awx.IsTransient(err) && awx.RetryAfterOf(err) > 0:
		// AWX (or its gateway) said when to come back: sooner would be refused.
		return reconcile.Wait(tokensv1alpha1.RemoteErrorReason, awx.RetryAfterOf(err), err)
	case awx.IsTransient(err):
		return reconcile.Fail(tokensv1alpha1.RemoteErrorReason, err)
	case awx.IsBadRequest(err), awx.IsNotFound(err):
		return reconcile.Stall(tokensv1alpha1.RemoteRefusedReason, err)
	}
	return reconcile.Fail(tokensv1alpha1.RemoteErrorReason, err)
}

// definitelyNotCreated tells whether a failed create certainly left no token: it
// was never sent (the issuer had no room, AWX could not be reached), or AWX
// answered with a refusal. A lost reply or a server error may hide a token.
func definitelyNotCreated(err error) bool {
	return isIssuerBusy(err) || awx.NeverSent(err) ||
		awx.IsBadRequest(err) || awx.IsUnauthorized(err) || awx.IsForbidden(err) || awx.IsNotFound(err)
}
