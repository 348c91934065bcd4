package kubectltoken

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// What each key of a token Secret holds, by the names the operator writes
// (README: the PersonalToken formats and the DeviceAccessToken keys). Only
// secretKeys hold credentials; the others are shown.
var (
	secretKeys = map[string]string{
		"CONTROLLER_OAUTH_TOKEN": "the AWX token", "TOWER_OAUTH_TOKEN": "the AWX token",
		"AAP_TOKEN": "the AWX token", "token": "the AWX token",
		"accessToken": "the DeviceHive access token", "refreshToken": "the DeviceHive refresh token",
	}
	shownKeys = map[string]string{
		"CONTROLLER_HOST": "the AWX host", "TOWER_HOST": "the AWX host", "AAP_HOSTNAME": "the AWX host", "host": "the AWX host",
		"accessTokenExpiresAt": "when the access token expires", "refreshTokenExpiresAt": "when the refresh token expires",
	}
)

func newInspectCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Look inside what the operator writes",
	}
	var showValues bool
	secret := &cobra.Command{
		Use:   "secret NAME",
		Short: "Show what a token Secret holds: keys, token id, expiries, DeviceHive claims; values only with --show-values",
		Long: `Show what a Secret written by token-operator holds: its keys, the token id and
whether the value is the one the operator wrote (its SHA-256 annotation), the host,
user, scopes and expiry of an AWX token, and the claims of a DeviceHive pair,
decoded without verifying the signature (user, actions, networks, device types,
expiries). Token values are never printed unless --show-values is given.`,
		Example: `  kubectl token inspect secret -n demo ci-runner-awx
  kubectl token inspect secret -n demo sensor-reader-dh --show-values`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.inspectSecret(cmd.Context(), args[0], showValues)
		},
	}
	secret.Flags().BoolVar(&showValues, "show-values", false, "Also print every value of the Secret, token values included.")
	cmd.AddCommand(secret)
	return cmd
}

func (o *options) inspectSecret(ctx context.Context, name string, showValues bool) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	secret := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, secret); apierrors.IsNotFound(err) {
		return fmt.Errorf("no Secret %q in namespace %q: give the name in a token's spec.secret.name, and -n for its namespace", name, ns)
	} else if err != nil {
		return fmt.Errorf("cannot read Secret %q: %w", name, err)
	}
	owner, err := tokenOwning(ctx, c, secret)
	if err != nil {
		return err
	}
	now := o.now()
	tw := newTable(o.streams.Out)
	field := func(name, value string) { row(tw, name+":", value) }
	field("Secret", ns+"/"+name)
	field("Owner", owner.ref()+ownerState(owner))
	if owner.kind.name == personalTokenKind.name {
		awxFields(field, secret, owner, now)
	} else {
		deviceHiveFields(field, secret, now)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	printKeys(o.streams.Out, secret, showValues)
	return nil
}

// tokenOwning returns the token that controls secret, and refuses a Secret no
// token controls: the plugin only reads what the operator wrote.
func tokenOwning(ctx context.Context, c client.Client, secret *corev1.Secret) (token, error) {
	notOurs := fmt.Errorf("Secret %q in namespace %q is not one token-operator writes (no PersonalToken or DeviceAccessToken controls it): inspect the Secret a token's spec.secret.name names",
		secret.Name, secret.Namespace)
	ref := metav1.GetControllerOf(secret)
	if ref == nil || secret.Labels[tokensv1alpha1.ManagedByLabel] != tokensv1alpha1.ManagedByValue {
		return token{}, notOurs
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != tokensv1alpha1.GroupVersion.Group {
		return token{}, notOurs
	}
	for _, k := range tokenKinds {
		if k.name != ref.Kind {
			continue
		}
		t := token{kind: k, obj: k.newObj()}
		t.obj.SetName(ref.Name)
		t.obj.SetNamespace(secret.Namespace)
		err := c.Get(ctx, client.ObjectKeyFromObject(t.obj), t.obj)
		switch {
		case apierrors.IsNotFound(err) || (err == nil && t.obj.GetUID() != ref.UID):
			// Being deleted, with its Secret about to go: show what the Secret says.
			t.obj = k.newObj()
			t.obj.SetName(ref.Name)
		case err != nil:
			return token{}, fmt.Errorf("cannot read %s %q that owns Secret %q: %w", k.name, ref.Name, secret.Name, err)
		}
		return t, nil
	}
	return token{}, notOurs
}

// ownerState is " (token 2, revision 2)", or why the owner says nothing.
func ownerState(t token) string {
	if t.obj.GetUID() == "" {
		return " (gone: the Secret is about to be deleted)"
	}
	return fmt.Sprintf(" (%s, revision %d)", orNone(t.subject()), t.status().Revision)
}

// awxFields are the token id, host, user, scopes and times of an AWX token.
func awxFields(field func(string, string), secret *corev1.Secret, owner token, now time.Time) {
	id := secret.Annotations[tokensv1alpha1.TokenIDAnnotation]
	field("Token id", orNone(id)+" ("+tokensv1alpha1.TokenIDAnnotation+")")
	field("Value", hashCheck(secret, "AWX token"))
	for _, key := range slices.Sorted(maps.Keys(secret.Data)) {
		if shownKeys[key] == "the AWX host" {
			field("Host", string(secret.Data[key])+" ("+key+")")
		}
	}
	pt, ok := owner.obj.(*tokensv1alpha1.PersonalToken)
	if !ok || pt.UID == "" {
		return
	}
	if fmt.Sprint(pt.Status.TokenID) != id {
		field("Note", fmt.Sprintf("the PersonalToken's status describes token %d, not the one in this Secret", pt.Status.TokenID))
		return
	}
	field("User", fmt.Sprintf("%s (id %d)", orNone(pt.Status.User), pt.Status.UserID))
	field("Scopes", orNone(strings.Join(scopeNames(pt.Status.Scopes), ", ")))
	field("Issued", stampOrNone(pt.Status.IssuedAt, now))
	field("Expires", stampOrNone(pt.Status.ExpiresAt, now))
}

func scopeNames(scopes []tokensv1alpha1.PersonalTokenScope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

// hashCheck says whether the token value is the one the operator wrote, by the
// SHA-256 the Secret's hash annotation holds.
func hashCheck(secret *corev1.Secret, what string) string {
	want := secret.Annotations[tokensv1alpha1.TokenHashAnnotation]
	for _, key := range slices.Sorted(maps.Keys(secret.Data)) {
		sum := sha256.Sum256(secret.Data[key])
		if secretKeys[key] != "" && want != "" && hex.EncodeToString(sum[:]) == want {
			return fmt.Sprintf("the %s in %s is the one the operator wrote (its SHA-256 matches %s)", what, key, tokensv1alpha1.TokenHashAnnotation)
		}
	}
	return fmt.Sprintf("no %s in this Secret matches %s: it was changed by hand, and the operator replaces it", what, tokensv1alpha1.TokenHashAnnotation)
}

// printKeys lists the Secret's keys and what each holds; the values only with
// showValues.
func printKeys(w io.Writer, secret *corev1.Secret, showValues bool) {
	fmt.Fprintln(w, "Keys:")
	tw := newTable(w)
	header := []string{"  KEY", "BYTES", "HOLDS"}
	if showValues {
		header = append(header, "VALUE")
	}
	row(tw, header...)
	for _, key := range slices.Sorted(maps.Keys(secret.Data)) {
		cells := []string{"  " + key, fmt.Sprint(len(secret.Data[key])), holds(key, showValues)}
		if showValues {
			cells = append(cells, string(secret.Data[key]))
		}
		row(tw, cells...)
	}
	_ = tw.Flush()
	if !showValues {
		fmt.Fprintln(w, "Values are hidden: add --show-values to print them.")
	}
}

// holds says what a key holds.
func holds(key string, showValues bool) string {
	switch {
	case shownKeys[key] != "":
		return shownKeys[key]
	case secretKeys[key] != "" && showValues:
		return secretKeys[key]
	case secretKeys[key] != "":
		return secretKeys[key] + " (hidden)"
	}
	return "not written by token-operator"
}
