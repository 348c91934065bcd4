package kubectltoken

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// issuerState says whether t's issuer is Ready, with its message; what went
// wrong reading it otherwise (a user may read tokens but not issuers).
func issuerState(ctx context.Context, c client.Client, t token) string {
	ref := t.obj.GetIssuerRef()
	var obj interface {
		client.Object
		GetConditions() []metav1.Condition
	} = &tokensv1alpha1.TokenIssuer{}
	key := client.ObjectKey{Namespace: t.obj.GetNamespace(), Name: ref.Name}
	if ref.Kind == tokensv1alpha1.ClusterTokenIssuerKind {
		obj, key.Namespace = &tokensv1alpha1.ClusterTokenIssuer{}, ""
	}
	switch err := c.Get(ctx, key, obj); {
	case apierrors.IsNotFound(err):
		return "not found"
	case err != nil:
		return "cannot be read: " + err.Error()
	}
	ready := meta.FindStatusCondition(obj.GetConditions(), tokensv1alpha1.ReadyCondition)
	if ready == nil {
		return "not checked yet"
	}
	state := "Ready"
	if ready.Status != metav1.ConditionTrue {
		state = "not Ready (" + ready.Reason + ")"
	}
	return state + ": " + ready.Message
}

// printDetail prints one token the way kubectl describe does.
func printDetail(w io.Writer, r tokenReport, issuer string, now time.Time) error {
	tw := newTable(w)
	field := func(name, value string) { row(tw, name+":", value) }
	field("Name", r.Name)
	field("Namespace", r.Namespace)
	field("Kind", r.Kind)
	field("Issuer", r.Issuer+" ("+issuer+")")
	field("Ready", r.Ready)
	field("Secret", r.Secret)
	field("Current", orNone(strings.TrimSpace(fmt.Sprintf("%s (revision %d)", r.Current, r.Revision))))
	field("Issued", stampOrNone(r.IssuedAt, now))
	field("Expires", stampOrNone(r.ExpiresAt, now))
	if r.Kind == deviceAccessTokenKind.name {
		field("Refresh expires", stampOrNone(r.RefreshExpires, now))
	}
	field("Renews", stampOrNone(r.RenewalTime, now))
	if r.RotateRequested != "" {
		field("Rotation requested", tokensv1alpha1.RotateAnnotation+"="+r.RotateRequested+" (not handled yet)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	section(w, "Conditions", len(r.Conditions), []string{"TYPE", "STATUS", "REASON", "MESSAGE"}, func(add func(...string)) {
		for _, c := range r.Conditions {
			add(c.Type, string(c.Status), c.Reason, c.Message)
		}
	})
	if r.Kind == deviceAccessTokenKind.name {
		fmt.Fprintln(w, "Previous tokens awaiting revocation: none (DeviceHive cannot revoke a pair: a replaced one stays usable until it expires)")
	} else {
		waiting := waitingOn(r.Consumers)
		section(w, "Previous tokens awaiting revocation", len(r.PreviousTokens), []string{"TOKEN", "REVOKE AT", "REVOKE BY", "WAITING ON"}, func(add func(...string)) {
			for _, p := range r.PreviousTokens {
				add(fmt.Sprint(p.ID), stamp(p.RevokeAt.Time, now), stampOrNone(p.RevokeBy, now), orNone(strings.Join(waiting, ", ")))
			}
		})
	}
	title := "Consumers"
	if r.SecretChangedAt != nil {
		title += " (Secret changed " + relative(r.SecretChangedAt.Time, now) + ")"
	}
	section(w, title, len(r.Consumers), []string{"KIND", "NAME", "READS", "ACTION", "RESTARTED", "ROLLED OUT"}, func(add func(...string)) {
		for _, c := range r.Consumers {
			add(c.Kind, c.Name, string(c.Reads), string(c.Action), yesNo(c.Restarted), yesNo(c.RolledOut))
		}
	})
	section(w, "Events", len(r.Events), []string{"LAST SEEN", "TYPE", "REASON", "MESSAGE"}, func(add func(...string)) {
		for _, e := range r.Events {
			add(age(e.LastSeen, now), e.Type, e.Reason, e.Message)
		}
	})
	return nil
}

// section prints a titled, indented table, or "<title>: none".
func section(w io.Writer, title string, n int, header []string, rows func(add func(...string))) {
	if n == 0 {
		fmt.Fprintln(w, title+": none")
		return
	}
	fmt.Fprintln(w, title+":")
	tw := newTable(w)
	add := func(cells ...string) { row(tw, append([]string{"  " + cells[0]}, cells[1:]...)...) }
	add(header...)
	rows(add)
	_ = tw.Flush()
}

// waitingOn names the consumers that have not yet moved to the Secret's current
// content: the previous token waits for them, up to its revokeBy.
func waitingOn(consumers []tokensv1alpha1.ConsumerStatus) []string {
	var out []string
	for _, c := range consumers {
		if !c.RolledOut {
			out = append(out, strings.ToLower(c.Kind)+"/"+c.Name)
		}
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
