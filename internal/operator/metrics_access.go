package operator

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/cache"
	authenticationclient "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// How long the API server's answers are trusted (the operator's choice, near
// controller-runtime's minute): a Prometheus scraping every few seconds costs
// the API server a review now and then, not one per scrape.
const (
	authenticatedTTL   = time.Minute
	unauthenticatedTTL = 10 * time.Second
	allowedTTL         = 5 * time.Minute
	deniedTTL          = 30 * time.Second
	reviewTimeout      = 10 * time.Second
	reviewCacheSize    = 1024
	// Refused tokens have a cache of their own, so that a caller sending many
	// cannot push the accepted ones out.
	refusedCacheSize = 256
	// reviewsAtOnce bounds the reviews in flight, so that a flood of unknown
	// tokens costs the API server (and the operator's own requests, which share
	// its fairness queue) no more than that.
	reviewsAtOnce = 2
)

// metricsAccess admits to the metrics endpoint the callers the API server
// authenticates (TokenReview) and authorizes for the path (SubjectAccessReview).
// It stands in for controller-runtime's filters package, which does the same
// but links in k8s.io/apiserver: 20 MB more code, and 18 MiB more memory for
// every replica.
type metricsAccess struct {
	tokens    authenticationclient.TokenReviewInterface
	access    authorizationclient.SubjectAccessReviewInterface
	users     *cache.LRUExpireCache // SHA-256 of an accepted bearer token → *authenticationv1.UserInfo
	refused   *cache.LRUExpireCache // SHA-256 of a refused bearer token → true
	decisions *cache.LRUExpireCache // a review's spec, as JSON → allowed
	reviews   chan struct{}         // a slot per review in flight
}

// metricsAccessFilter is a metricsserver.FilterProvider.
func metricsAccessFilter(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	authn, err := authenticationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	authz, err := authorizationclient.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	a := &metricsAccess{tokens: authn.TokenReviews(), access: authz.SubjectAccessReviews(),
		users: cache.NewLRUExpireCache(reviewCacheSize), refused: cache.NewLRUExpireCache(refusedCacheSize),
		decisions: cache.NewLRUExpireCache(reviewCacheSize), reviews: make(chan struct{}, reviewsAtOnce)}
	return a.filter, nil
}

func (a *metricsAccess) filter(log logr.Logger, next http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), reviewTimeout)
		defer cancel()
		user, err := a.authenticate(ctx, bearerToken(r))
		if err != nil {
			reviewFailed(log, w, r, "token", err)
			return
		}
		if user == nil {
			http.Error(w, "Unauthorized: send a bearer token the API server accepts", http.StatusUnauthorized)
			return
		}
		verb := strings.ToLower(r.Method)
		allowed, err := a.authorize(ctx, user, verb, r.URL.Path)
		if err != nil {
			reviewFailed(log, w, r, "access", err)
			return
		}
		if !allowed {
			http.Error(w, fmt.Sprintf("Forbidden: user %q may not %s %s; bind it to a role that allows it", user.Username, verb, r.URL.Path),
				http.StatusForbidden)
			return
		}
		// What serves the metrics has no use for the caller's credentials.
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r)
	}), nil
}

// reviewFailed answers a request whose token or access the API server could not
// review (what): 503, as the next try may pass, unless the operator itself may
// not ask.
func reviewFailed(log logr.Logger, w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return // the caller is gone
	}
	if apierrors.IsForbidden(err) {
		log.Error(err, "The operator may not review the callers of its metrics: give its ServiceAccount create on tokenreviews and subjectaccessreviews")
		http.Error(w, "the operator may not ask the API server who you are: give its ServiceAccount create on tokenreviews and subjectaccessreviews",
			http.StatusInternalServerError)
		return
	}
	log.Error(err, "Failed to review a metrics request", "review", what)
	http.Error(w, fmt.Sprintf("the API server could not review the %s; try again", what), http.StatusServiceUnavailable)
}

// bearerToken is the request's bearer token, "" when it has none, read as the
// API server reads its own Authorization headers.
func bearerToken(r *http.Request) string {
	parts := strings.SplitN(strings.TrimSpace(r.Header.Get("Authorization")), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "Bearer") {
		return ""
	}
	return parts[1]
}

// authenticate is the user the API server says token belongs to, nil when it
// belongs to nobody. Only the token's hash is kept.
func (a *metricsAccess) authenticate(ctx context.Context, token string) (*authenticationv1.UserInfo, error) {
	if token == "" {
		return nil, nil
	}
	key := sha256.Sum256([]byte(token))
	if user, ok := a.users.Get(key); ok {
		return user.(*authenticationv1.UserInfo), nil
	}
	if _, ok := a.refused.Get(key); ok {
		return nil, nil
	}
	release, err := a.reviewSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	review, err := a.tokens.Create(ctx, &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	if !review.Status.Authenticated {
		a.refused.Add(key, true, unauthenticatedTTL)
		return nil, nil
	}
	// The reply holds the token it was sent: keep a copy of the user alone.
	user := review.Status.User
	a.users.Add(key, &user, authenticatedTTL)
	return &user, nil
}

// reviewSlot waits for a slot to send a review, for as long as ctx allows.
func (a *metricsAccess) reviewSlot(ctx context.Context) (release func(), err error) {
	select {
	case a.reviews <- struct{}{}:
		return func() { <-a.reviews }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("too many reviews in flight: %w", ctx.Err())
	}
}

// authorize says whether the API server lets user do verb on the non-resource
// path.
func (a *metricsAccess) authorize(ctx context.Context, user *authenticationv1.UserInfo, verb, path string) (bool, error) {
	spec := authorizationv1.SubjectAccessReviewSpec{User: user.Username, UID: user.UID, Groups: user.Groups,
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: path, Verb: verb}}
	if len(user.Extra) > 0 {
		spec.Extra = map[string]authorizationv1.ExtraValue{}
		for k, v := range user.Extra {
			spec.Extra[k] = authorizationv1.ExtraValue(v)
		}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return false, err
	}
	key := string(raw)
	if allowed, ok := a.decisions.Get(key); ok {
		return allowed.(bool), nil
	}
	release, err := a.reviewSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	review, err := a.access.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	ttl := deniedTTL
	if review.Status.Allowed {
		ttl = allowedTTL
	}
	a.decisions.Add(key, review.Status.Allowed, ttl)
	return review.Status.Allowed, nil
}
