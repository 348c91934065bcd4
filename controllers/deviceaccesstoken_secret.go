package controllers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/devicehive"
	"github.com/tokenoperator/token-operator/internal/reconcile"
)

// Keys of a DeviceAccessToken's Secret. The expiries are RFC 3339.
const (
	deviceAccessTokenKey          = "accessToken"
	deviceRefreshTokenKey         = "refreshToken"
	deviceAccessTokenExpiresAtKey = "accessTokenExpiresAt"
	deviceRefreshExpiresAtKey     = "refreshTokenExpiresAt"
)

// heldDevicePair is the pair a Secret holds, with the claims of its access token.
type heldDevicePair struct {
	access, refresh string
	claims          devicehive.Claims
}

// heldPair returns the pair a Secret holds, or nil when it holds none this
// operator wrote: the access token must match the hash annotation, a refresh token
// must be there, and the access token must read as a DeviceHive access JWT.
func heldPair(secret *corev1.Secret) *heldDevicePair {
	if secret == nil {
		return nil
	}
	access, refresh := secret.Data[deviceAccessTokenKey], secret.Data[deviceRefreshTokenKey]
	want := secret.Annotations[tokensv1alpha1.TokenHashAnnotation]
	if len(access) == 0 || len(refresh) == 0 || want == "" || hashOf(access) != want {
		return nil
	}
	claims, err := decodeDeviceHiveClaims(string(access))
	if err != nil || claims.Type == devicehive.RefreshTokenType {
		return nil
	}
	return &heldDevicePair{access: string(access), refresh: string(refresh), claims: claims}
}

// errUnreadableToken never quotes the token it is about.
var errUnreadableToken = errors.New("not a readable DeviceHive JWT")

// decodeDeviceHiveClaims reads the "payload" claim of a DeviceHive JWT without
// checking its signature: in API mode the operator has no key, and it only reads
// back what it wrote itself (the hash annotation says so). Errors never quote the
// token.
func decodeDeviceHiveClaims(token string) (devicehive.Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return devicehive.Claims{}, errUnreadableToken
	}
	body, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	var decoded struct {
		Payload *struct {
			U  *int64   `json:"u"`
			A  []int    `json:"a"`
			N  []string `json:"n"`
			DT []string `json:"dt"`
			E  *int64   `json:"e"`
			T  *int     `json:"t"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &decoded) != nil || decoded.Payload == nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	p := decoded.Payload
	if p.U == nil || p.E == nil || p.T == nil {
		return devicehive.Claims{}, errUnreadableToken
	}
	return devicehive.Claims{
		UserID:        *p.U,
		ActionIDs:     p.A,
		NetworkIDs:    p.N,
		DeviceTypeIDs: p.DT,
		ExpiresAt:     time.UnixMilli(*p.E).UTC(),
		Type:          *p.T,
	}, nil
}

// desiredDeviceAccessTokenSecret is the Secret that holds a pair.
func desiredDeviceAccessTokenSecret(dat *tokensv1alpha1.DeviceAccessToken, access, refresh string, accessExpires, refreshExpires time.Time) *corev1.Secret {
	spec := dat.Spec.Secret
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[tokensv1alpha1.ManagedByLabel] = tokensv1alpha1.ManagedByValue
	annotations := maps.Clone(spec.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[tokensv1alpha1.TokenHashAnnotation] = hashOf([]byte(access))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Namespace: dat.Namespace, Labels: labels, Annotations: annotations},
		Type:       corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			deviceAccessTokenKey:          []byte(access),
			deviceRefreshTokenKey:         []byte(refresh),
			deviceAccessTokenExpiresAtKey: []byte(accessExpires.UTC().Format(time.RFC3339)),
			deviceRefreshExpiresAtKey:     []byte(refreshExpires.UTC().Format(time.RFC3339)),
		},
	}
}

// writeSecret makes the Secret match desired, writing only what differs. It refuses
// to take over a Secret that this token does not control.
func (r *DeviceAccessTokenReconciler) writeSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken, desired *corev1.Secret) error {
	if err := controllerutil.SetControllerReference(dat, desired, r.Scheme()); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to own Secret %q: %w", desired.Name, err))
	}
	// The cache holds only Secrets with our label: one without it is read directly.
	existing := &corev1.Secret{}
	err := r.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	}
	switch {
	case apierrors.IsNotFound(err):
		if err := r.Create(ctx, desired, client.FieldOwner(DeviceAccessTokenControllerName)); err != nil {
			return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to create Secret %q: %w", desired.Name, err))
		}
		return nil
	case err != nil:
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to read Secret %q: %w", desired.Name, err))
	case !metav1.IsControlledBy(existing, dat):
		return reconcile.Stall(tokensv1alpha1.SecretConflictReason,
			fmt.Errorf("Secret %q exists and is not managed by this DeviceAccessToken: delete it or choose another spec.secret.name", desired.Name))
	}
	updated := existing.DeepCopy()
	updated.Data = desired.Data
	updated.Type = desired.Type
	updated.Labels = mergeInto(updated.Labels, desired.Labels)
	updated.Annotations = mergeInto(updated.Annotations, desired.Annotations)
	if equality.Semantic.DeepEqual(existing, updated) {
		return nil
	}
	if err := r.Update(ctx, updated, client.FieldOwner(DeviceAccessTokenControllerName)); err != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to update Secret %q: %w", desired.Name, err))
	}
	return nil
}

// leaveOldSecret deletes the Secret that held the pair before spec.secret.name
// changed, if this token controls it: DeviceHive cannot revoke that pair, so at
// least no Secret keeps handing it out.
func (r *DeviceAccessTokenReconciler) leaveOldSecret(ctx context.Context, dat *tokensv1alpha1.DeviceAccessToken) error {
	old := dat.Status.SecretName
	if old == "" || old == dat.Spec.Secret.Name {
		return nil
	}
	secret := &corev1.Secret{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: dat.Namespace, Name: old}, secret); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(secret, dat) {
		return nil
	}
	if err := r.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
		return reconcile.Fail(reconcile.FailedReason, fmt.Errorf("failed to delete Secret %q: %w", old, err))
	}
	return nil
}
