package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/consumers"
)

// apply creates each object of a YAML stream, as `kubectl create -f` does.
func (e *environment) apply(ctx context.Context, manifests string) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewBufferString(manifests), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := e.client.Create(ctx, &u); err != nil {
			return fmt.Errorf("creating %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

func isReady(conds []metav1.Condition) bool {
	return meta.IsStatusConditionTrue(conds, tokensv1alpha1.ReadyCondition)
}

// fingerprint is what a consumer logs of a token: the first 12 hex digits of its
// SHA-256.
func fingerprint(token []byte) string {
	sum := sha256.Sum256(token)
	return hex.EncodeToString(sum[:6])
}

// secretFingerprint is the fingerprint of the token in key of a Secret.
func (e *environment) secretFingerprint(ctx context.Context, ns, name, key string) (string, error) {
	var s corev1.Secret
	if err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		return "", err
	}
	if len(s.Data[key]) == 0 {
		return "", fmt.Errorf("Secret %s/%s has no %s", ns, name, key)
	}
	return fingerprint(s.Data[key]), nil
}

// rotate asks for a new token, as `kubectl token rotate` does.
func (e *environment) rotate(ctx context.Context, obj client.Object) error {
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[tokensv1alpha1.RotateAnnotation] = time.Now().UTC().Format(time.RFC3339Nano)
	obj.SetAnnotations(ann)
	return e.client.Patch(ctx, obj, patch)
}

// personalToken reads a PersonalToken.
func (e *environment) personalToken(ctx context.Context, ns, name string) (*tokensv1alpha1.PersonalToken, error) {
	var pt tokensv1alpha1.PersonalToken
	return &pt, e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &pt)
}

// waitPersonalToken waits for the token to be Ready on a token other than
// notID (0 for any), with no previous token left to revoke.
func (e *environment) waitPersonalToken(ctx context.Context, ns, name string, notID int64, timeout time.Duration) (*tokensv1alpha1.PersonalToken, error) {
	var pt *tokensv1alpha1.PersonalToken
	err := poll(ctx, timeout, fmt.Sprintf("PersonalToken %s/%s to be Ready on a new token with none left to revoke", ns, name),
		func(ctx context.Context) (bool, error) {
			var err error
			if pt, err = e.personalToken(ctx, ns, name); err != nil {
				return false, nil
			}
			return isReady(pt.Status.Conditions) && pt.Status.TokenID != 0 && pt.Status.TokenID != notID &&
				len(pt.Status.PreviousTokens) == 0, nil
		})
	return pt, err
}

// waitRolledOut waits for a Deployment to have rolled out, with no old pod left.
func (e *environment) waitRolledOut(ctx context.Context, ns, name string, timeout time.Duration) error {
	return poll(ctx, timeout, fmt.Sprintf("Deployment %s/%s to roll out", ns, name), func(ctx context.Context) (bool, error) {
		var d appsv1.Deployment
		if err := e.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
			return false, nil
		}
		if !consumers.DeploymentRolledOut(&d, d.Generation) {
			return false, nil
		}
		pods, err := e.pods(ctx, ns, d.Spec.Selector.MatchLabels)
		return err == nil && len(pods) == int(*d.Spec.Replicas), nil
	})
}

// pods lists the pods of a selector, terminating ones included.
func (e *environment) pods(ctx context.Context, ns string, labels map[string]string) ([]corev1.Pod, error) {
	var list corev1.PodList
	if err := e.client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
		return nil, err
	}
	return list.Items, nil
}
