package controllers

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/testenv"
)

// startShardedManager runs the PersonalToken controller as the operator wires it:
// the Secrets carry the tokens' ShardLabel.
func (e *ptEnv) startShardedManager() {
	e.startOperator(func(mgr ctrl.Manager, credentials cache.Cache) error {
		deps := e.managerDeps(mgr, PersonalTokenControllerName)
		deps.ShardLabels = []string{tokensv1alpha1.ShardLabel}
		return (&PersonalTokenReconciler{TokenDeps: deps}).SetupWithManager(mgr, 2, credentials)
	})
}

// A token's Secret carries the token's shard label, so that the shard whose cache
// holds the token holds its Secret; moving the token to another shard moves its
// Secret, and mints nothing.
func TestPersonalTokenSecret_CarriesTheTokensShardLabel(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startShardedManager()
	pt := e.waitReady(e.personalToken("sharded", func(pt *tokensv1alpha1.PersonalToken) {
		pt.Labels = map[string]string{tokensv1alpha1.ShardLabel: "blue"}
		pt.Spec.Secret.Labels = map[string]string{tokensv1alpha1.ShardLabel: "from-the-template", "team": "ci"}
	}))
	g.Expect(e.secret("sharded-awx").Labels).To(HaveKeyWithValue(tokensv1alpha1.ShardLabel, "blue"), "the token's value, not the template's")

	for _, shard := range []string{"green", ""} {
		current := e.get(pt)
		if shard == "" {
			delete(current.Labels, tokensv1alpha1.ShardLabel)
		} else {
			current.Labels[tokensv1alpha1.ShardLabel] = shard
		}
		g.Expect(k8sClient.Update(ctx, current)).To(Succeed())
		g.Eventually(func(g Gomega) {
			labels := e.secret("sharded-awx").Labels
			if shard == "" {
				g.Expect(labels).NotTo(HaveKey(tokensv1alpha1.ShardLabel))
			} else {
				g.Expect(labels).To(HaveKeyWithValue(tokensv1alpha1.ShardLabel, shard))
			}
			g.Expect(labels).To(HaveKeyWithValue("team", "ci"))
		}).WithTimeout(testenv.Wait).Should(Succeed(), "shard %q", shard)
	}
	g.Expect(e.get(pt).Status.TokenID).To(Equal(pt.Status.TokenID), "relabelling mints nothing")
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(1))
}

// A Secret the cache does not hold, though status says it holds the token (as
// when the token has just moved in from another shard, its Secret still labelled
// for that one), is read from the API server and relabelled: the token it holds
// stays, where taking the Secret for missing would replace it.
func TestPersonalTokenSecret_OutsideTheCacheIsKeptNotReplaced(t *testing.T) {
	g := NewWithT(t)
	e := newPTEnv(t, awxtest.FlavorController, nil)
	e.startManager()
	pt := e.waitReady(e.personalToken("uncached", nil))

	secret := e.secret("uncached-awx")
	delete(secret.Labels, tokensv1alpha1.ManagedByLabel)
	g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())

	g.Eventually(func() map[string]string { return e.secret("uncached-awx").Labels }).WithTimeout(testenv.Wait).
		Should(HaveKeyWithValue(tokensv1alpha1.ManagedByLabel, tokensv1alpha1.ManagedByValue))
	g.Consistently(func() int64 { return e.get(pt).Status.TokenID }).WithTimeout(time.Second).Should(Equal(pt.Status.TokenID))
	g.Expect(e.awx.Calls(awxtest.KindCreate)).To(Equal(1), "nothing minted")
	e.expectOneLiveTokenInSecret(pt, "CONTROLLER_OAUTH_TOKEN")
}

// A token deleted while its Secret is outside the cache (labelled for the shard
// it came from) still deletes the Secret with Revoke, so that no Secret is left
// holding a revoked token, and still releases it with Retain, so that garbage
// collection does not take the live token's Secret.
func TestPersonalTokenSecret_OutsideTheCacheIsDeletedOrReleased(t *testing.T) {
	for _, policy := range []tokensv1alpha1.DeletionPolicy{tokensv1alpha1.DeletionPolicyRevoke, tokensv1alpha1.DeletionPolicyRetain} {
		t.Run(string(policy), func(t *testing.T) {
			g := NewWithT(t)
			e := newPTEnv(t, awxtest.FlavorController, nil)
			r := e.manualReconciler(k8sClient)
			pt := e.personalToken("leaving", func(pt *tokensv1alpha1.PersonalToken) { pt.Spec.DeletionPolicy = policy })
			_, err := e.reconcile(r, pt)
			g.Expect(err).NotTo(HaveOccurred())
			secret := e.secret("leaving-awx")
			g.Expect(secret).NotTo(BeNil())
			delete(secret.Labels, tokensv1alpha1.ManagedByLabel)
			g.Expect(k8sClient.Update(ctx, secret)).To(Succeed())

			g.Expect(k8sClient.Delete(ctx, e.get(pt))).To(Succeed())
			// The reconciler reads through a cache that, like a shard's, does not hold the Secret.
			r.Client = secretsOutsideTheCache(k8sClient)
			_, err = e.reconcile(r, pt)
			g.Expect(err).NotTo(HaveOccurred())
			if policy == tokensv1alpha1.DeletionPolicyRevoke {
				g.Expect(e.awx.LiveTokens(awxUser)).To(BeEmpty())
				g.Expect(e.secret("leaving-awx")).To(BeNil(), "no Secret is left holding a revoked token")
			} else {
				g.Expect(e.awx.LiveTokens(awxUser)).To(HaveLen(1))
				g.Expect(e.secret("leaving-awx").OwnerReferences).To(BeEmpty(), "released, so garbage collection keeps it")
			}
		})
	}
}

// secretsOutsideTheCache is the real client, reading Secrets as the operator's
// cache holds them: one without the operator's label is not there.
func secretsOutsideTheCache(c client.Client) client.Client {
	return interceptor.NewClient(c.(client.WithWatch), interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			if secret, ok := obj.(*corev1.Secret); ok && secret.Labels[tokensv1alpha1.ManagedByLabel] != tokensv1alpha1.ManagedByValue {
				return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
			}
			return nil
		},
	})
}
