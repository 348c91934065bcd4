package controllers

import (
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/types"

	tokensv1alpha1 "github.com/tokenoperator/token-operator/api/v1alpha1"
	"github.com/tokenoperator/token-operator/internal/awx"
)

// awxCredentials is what a version of a credentials Secret holds, and what an
// AWX client with it learnt at each endpoint: the user it belongs to, and where
// the API is. A value in secretVersions is never changed, as others may be
// reading it: withLearnt makes a new one.
type awxCredentials struct {
	creds  awx.Credentials
	learnt map[tokensv1alpha1.AWXEndpoint]awx.Learnt
}

// Format hides the credentials: fmt would print the unexported field as it is,
// whatever the password's own Format says.
func (c awxCredentials) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "AWX credentials of %q (password and token hidden), learnt at %d endpoints", c.creds.Username, len(c.learnt))
}

// knows tells whether the user the credentials belong to at endpoint was learnt.
func (c awxCredentials) knows(endpoint tokensv1alpha1.AWXEndpoint) bool {
	_, ok := c.learnt[endpoint].User()
	return ok
}

func (c awxCredentials) withLearnt(endpoint tokensv1alpha1.AWXEndpoint, learnt awx.Learnt) awxCredentials {
	c.learnt = maps.Clone(c.learnt)
	if c.learnt == nil {
		c.learnt = map[tokensv1alpha1.AWXEndpoint]awx.Learnt{}
	}
	c.learnt[endpoint] = learnt
	return c
}

// credentialsKey names the credentials Secret of pt.
func credentialsKey(pt *tokensv1alpha1.PersonalToken) types.NamespacedName {
	return types.NamespacedName{Namespace: pt.Namespace, Name: pt.Spec.CredentialsSecretRef.Name}
}
