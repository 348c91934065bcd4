package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// issuerRetryInterval is how often a token whose issuer is missing looks again, on
// top of the issuer watch that wakes it at once.
const issuerRetryInterval = 5 * time.Minute

// resolvedIssuer is an issuer of either kind, as a token sees it.
type resolvedIssuer struct {
	ref        tokensv1alpha1.IssuerRef
	spec       tokensv1alpha1.TokenIssuerSpec
	status     tokensv1alpha1.TokenIssuerStatus
	generation int64
}

// policy returns the issuer's policy, empty when it has none.
func (i resolvedIssuer) policy() tokensv1alpha1.IssuerPolicy {
	if i.spec.Policy == nil {
		return tokensv1alpha1.IssuerPolicy{}
	}
	return *i.spec.Policy
}

// The blocks of an issuer, each of which mints one kind of token.
const (
	issuerBlockAWX        = "awx"
	issuerBlockDeviceHive = "deviceHive"
)

// issuerSystems name, for messages, the remote system behind each block.
var issuerSystems = map[string]string{issuerBlockAWX: "an AWX", issuerBlockDeviceHive: "a DeviceHive"}

// block names the block the issuer has; empty for neither.
func (i resolvedIssuer) block() string {
	switch {
	case i.spec.AWX != nil:
		return issuerBlockAWX
	case i.spec.DeviceHive != nil:
		return issuerBlockDeviceHive
	}
	return ""
}

func (i resolvedIssuer) String() string {
	return fmt.Sprintf("%s %q", i.ref.Kind, i.ref.Name)
}

// resolveIssuer reads the issuer a token names and checks that it serves the
// token's namespace. A missing issuer is Waiting (the issuer watch wakes the token
// when it appears); a namespace the policy leaves out is Stalling.
func resolveIssuer(ctx context.Context, c client.Reader, namespace string, ref tokensv1alpha1.IssuerRef) (resolvedIssuer, error) {
	issuer, err := getIssuer(ctx, c, namespace, ref)
	if err != nil {
		return issuer, err
	}
	if ref.Kind != tokensv1alpha1.ClusterTokenIssuerKind {
		return issuer, nil
	}
	policy := issuer.policy()
	if allowed := policy.AllowedNamespaces; len(allowed) > 0 && !slices.Contains(allowed, namespace) {
		return issuer, reconcile.StallAndRetry(tokensv1alpha1.NamespaceNotAllowedReason, issuerRetryInterval,
			fmt.Errorf("%s does not serve namespace %q: add it to the issuer's policy.allowedNamespaces or use another issuer", issuer, namespace))
	}
	if policy.NamespaceSelector != nil {
		return issuer, checkNamespaceSelector(ctx, c, issuer, namespace)
	}
	return issuer, nil
}

// checkNamespaceSelector refuses a namespace whose labels the issuer's
// policy.namespaceSelector does not select. A namespace relabelled later is
// looked at again within issuerRetryInterval.
func checkNamespaceSelector(ctx context.Context, c client.Reader, issuer resolvedIssuer, namespace string) error {
	selector, err := metav1.LabelSelectorAsSelector(issuer.policy().NamespaceSelector)
	if err != nil {
		return reconcile.Stall(tokensv1alpha1.NamespaceNotAllowedReason,
			fmt.Errorf("%s has an invalid policy.namespaceSelector: %w", issuer, err))
	}
	ns := metadataOf("Namespace")
	if err := c.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read namespace %q: %w", namespace, err))
	}
	if !selector.Matches(labels.Set(ns.Labels)) {
		return reconcile.StallAndRetry(tokensv1alpha1.NamespaceNotAllowedReason, issuerRetryInterval,
			fmt.Errorf("%s does not serve namespace %q: its labels do not match the issuer's policy.namespaceSelector", issuer, namespace))
	}
	return nil
}

// getIssuer reads the issuer a token names, whatever its policy: revoking the
// tokens a token already has needs no permission to mint.
func getIssuer(ctx context.Context, c client.Reader, namespace string, ref tokensv1alpha1.IssuerRef) (resolvedIssuer, error) {
	issuer := resolvedIssuer{ref: ref}
	var err error
	switch ref.Kind {
	case tokensv1alpha1.ClusterTokenIssuerKind:
		var cti tokensv1alpha1.ClusterTokenIssuer
		err = c.Get(ctx, client.ObjectKey{Name: ref.Name}, &cti)
		issuer.spec, issuer.status, issuer.generation = cti.Spec, cti.Status, cti.Generation
	default:
		var ti tokensv1alpha1.TokenIssuer
		err = c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &ti)
		issuer.spec, issuer.status, issuer.generation = ti.Spec, ti.Status, ti.Generation
	}
	if apierrors.IsNotFound(err) {
		return issuer, reconcile.Wait(tokensv1alpha1.IssuerNotFoundReason, issuerRetryInterval,
			fmt.Errorf("%s not found: create it or fix spec.issuerRef", issuer))
	}
	if err != nil {
		return issuer, reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read %s: %w", issuer, err))
	}
	return issuer, nil
}

// awxAPI is the AWX token API to use: the one spec.awx.api names, or the one
// the issuer's check detected, so that tokens do not detect it again.
func (i resolvedIssuer) awxAPI() tokensv1alpha1.AWXAPI {
	if api := i.spec.AWX.API; api != "" && api != tokensv1alpha1.AWXAPIAuto {
		return api
	}
	if i.status.AWXAPI != "" {
		return i.status.AWXAPI
	}
	return tokensv1alpha1.AWXAPIAuto
}

// checkReady refuses an issuer whose last check, of its current spec, did not
// pass: the token waits (the issuer watch wakes it when the issuer turns Ready)
// and calls no remote system meanwhile.
func (i resolvedIssuer) checkReady() error {
	ready := currentReady(i.status.Conditions, i.generation)
	switch {
	case ready == nil:
		return reconcile.Wait(tokensv1alpha1.IssuerNotReadyReason, issuerRetryInterval,
			fmt.Errorf("%s has not been checked yet (with operator shards, only one whose --shard selects the issuer's labels checks it)", i))
	case ready.Status != metav1.ConditionTrue:
		return reconcile.Wait(tokensv1alpha1.IssuerNotReadyReason, issuerRetryInterval,
			fmt.Errorf("%s is not ready (%s): %s", i, ready.Reason, ready.Message))
	}
	return nil
}
