package metrics

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Token is what the per-token series show of one token, read from its status.
type Token struct {
	Kind, Namespace, Name  string
	IssuerKind, IssuerName string
	// ExpiresAt and RenewalTime are zero when there is no such time.
	ExpiresAt, RenewalTime time.Time
	// Ready is the Ready condition's status; empty reads as Unknown.
	Ready metav1.ConditionStatus
	// PreviousPending counts the replaced tokens not revoked yet, and
	// RevocationDue is when the first of them is due at the latest (zero: none).
	PreviousPending int
	RevocationDue   time.Time
}

// Issuer is what the per-issuer series show of one issuer.
type Issuer struct {
	// Namespace is empty for a ClusterTokenIssuer.
	Kind, Namespace, Name string
	Ready                 metav1.ConditionStatus
}

// Source lists the tokens and issuers as they are now: the operator reads them
// from its cache at each scrape.
type Source func(ctx context.Context) ([]Token, []Issuer, error)

// SetSource makes source the one the per-token and per-issuer series are read
// from (nil: none, no series); the last manager of a process to set it wins.
func SetSource(source Source) {
	if source == nil {
		objects.source.Store(nil)
		return
	}
	objects.source.Store(&source)
}
