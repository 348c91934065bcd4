package kubectltoken

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
)

// tokenObject is a token of either kind.
type tokenObject interface {
	client.Object
	GetConditions() []metav1.Condition
	GetTokenStatus() *tokensv1alpha1.TokenStatus
	GetIssuerRef() tokensv1alpha1.IssuerRef
	GetRotation() *tokensv1alpha1.Rotation
	GetSecretTemplate() tokensv1alpha1.SecretTemplate
}

// tokenKind is one kind of token, as the commands name and list it.
type tokenKind struct {
	// name is the Kind; resource what a reference spells before the slash.
	name, resource string
	// aliases are the plural and the CRD's short name, accepted for resource.
	aliases []string
	newObj  func() tokenObject
	list    func(ctx context.Context, c client.Client, opts ...client.ListOption) ([]tokenObject, error)
}

var (
	personalTokenKind = tokenKind{
		name: "PersonalToken", resource: "personaltoken", aliases: []string{"personaltokens", "ptoken"},
		newObj: func() tokenObject { return &tokensv1alpha1.PersonalToken{} },
		list: func(ctx context.Context, c client.Client, opts ...client.ListOption) ([]tokenObject, error) {
			var l tokensv1alpha1.PersonalTokenList
			err := c.List(ctx, &l, opts...)
			return pointers(l.Items), err
		},
	}
	deviceAccessTokenKind = tokenKind{
		name: "DeviceAccessToken", resource: "deviceaccesstoken", aliases: []string{"deviceaccesstokens", "dat"},
		newObj: func() tokenObject { return &tokensv1alpha1.DeviceAccessToken{} },
		list: func(ctx context.Context, c client.Client, opts ...client.ListOption) ([]tokenObject, error) {
			var l tokensv1alpha1.DeviceAccessTokenList
			err := c.List(ctx, &l, opts...)
			return pointers(l.Items), err
		},
	}
	tokenKinds = []tokenKind{personalTokenKind, deviceAccessTokenKind}
)

func pointers[T any, P interface {
	*T
	tokenObject
}](items []T) []tokenObject {
	out := make([]tokenObject, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// token is a token object with its kind.
type token struct {
	kind tokenKind
	obj  tokenObject
}

// ref is how commands print a token: personaltoken/NAME.
func (t token) ref() string { return t.kind.resource + "/" + t.obj.GetName() }

// status is the status both kinds share.
func (t token) status() *tokensv1alpha1.TokenStatus { return t.obj.GetTokenStatus() }

// subject names the current token as the operator's events do: "token 12" for
// AWX (its id), "pair 3" for DeviceHive (its revision); empty before the first.
func (t token) subject() string {
	switch obj := t.obj.(type) {
	case *tokensv1alpha1.PersonalToken:
		if obj.Status.TokenID != 0 {
			return "token " + strconv.FormatInt(obj.Status.TokenID, 10)
		}
	case *tokensv1alpha1.DeviceAccessToken:
		if obj.Status.Revision != 0 {
			return "pair " + strconv.FormatInt(obj.Status.Revision, 10)
		}
	}
	return ""
}

// previousTokens are the replaced tokens awaiting revocation; DeviceHive cannot
// revoke, so a DeviceAccessToken has none.
func (t token) previousTokens() []tokensv1alpha1.PreviousToken {
	if pt, ok := t.obj.(*tokensv1alpha1.PersonalToken); ok {
		return pt.Status.PreviousTokens
	}
	return nil
}

// rotatePending is the rotate annotation's value when the operator has not yet
// minted the token it asks for.
func (t token) rotatePending() string {
	v := t.obj.GetAnnotations()[tokensv1alpha1.RotateAnnotation]
	if v == "" || v == t.status().LastHandledRotateAt {
		return ""
	}
	return v
}

// issuer is "ClusterTokenIssuer/NAME" or "TokenIssuer/NAME".
func (t token) issuer() string {
	ref := t.obj.GetIssuerRef()
	return string(cmp.Or(ref.Kind, tokensv1alpha1.TokenIssuerKind)) + "/" + ref.Name
}

// listTokens lists the tokens of both kinds in namespace ("" for all) matching
// selector, sorted by namespace, kind and name.
func listTokens(ctx context.Context, c client.Client, namespace string, selector labels.Selector) ([]token, error) {
	var out []token
	for _, k := range tokenKinds {
		objs, err := k.list(ctx, c, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: selector})
		if err != nil {
			return nil, fmt.Errorf("cannot list %ss: %w", k.name, err)
		}
		for _, obj := range objs {
			out = append(out, token{kind: k, obj: obj})
		}
	}
	slices.SortFunc(out, func(a, b token) int {
		return cmp.Or(cmp.Compare(a.obj.GetNamespace(), b.obj.GetNamespace()), cmp.Compare(a.kind.name, b.kind.name),
			cmp.Compare(a.obj.GetName(), b.obj.GetName()))
	})
	return out, nil
}

// getToken reads the token arg names in namespace: KIND/NAME, or a bare NAME
// that only one kind has.
func getToken(ctx context.Context, c client.Client, namespace, arg string) (token, error) {
	kinds, name := tokenKinds, arg
	if prefix, rest, found := strings.Cut(arg, "/"); found {
		k, ok := kindNamed(prefix)
		if !ok {
			return token{}, fmt.Errorf("%q is not a token kind: name a token personaltoken/NAME or deviceaccesstoken/NAME", prefix)
		}
		kinds, name = []tokenKind{k}, rest
	}
	var found []token
	for _, k := range kinds {
		obj := k.newObj()
		err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, obj)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return token{}, fmt.Errorf("cannot read %s %q: %w", k.name, name, err)
		}
		found = append(found, token{kind: k, obj: obj})
	}
	switch len(found) {
	case 0:
		what := "no PersonalToken or DeviceAccessToken"
		if len(kinds) == 1 {
			what = "no " + kinds[0].name
		}
		return token{}, fmt.Errorf("%s named %q in namespace %q: list the tokens with `kubectl token status`", what, name, namespace)
	case 1:
		return found[0], nil
	}
	return token{}, fmt.Errorf("both a PersonalToken and a DeviceAccessToken are named %q in namespace %q: say which with personaltoken/%s or deviceaccesstoken/%s",
		name, namespace, name, name)
}

// kindNamed finds a kind by its resource name, plural or short name.
func kindNamed(s string) (tokenKind, bool) {
	s = strings.ToLower(s)
	for _, k := range tokenKinds {
		if s == k.resource || slices.Contains(k.aliases, s) {
			return k, true
		}
	}
	return tokenKind{}, false
}
