// Package playground holds what the local playground (`make run` without a
// cluster) and the test of config/samples share: the AWX and DeviceHive test
// servers, seeded with the users the samples name, and the samples themselves.
package playground

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/tokenoperator/token-operator/internal/awx/awxtest"
	"github.com/tokenoperator/token-operator/internal/devicehive/dhtest"
)

// The addresses config/samples names.
const (
	AWXAddr        = "127.0.0.1:18052"
	DeviceHiveAddr = "127.0.0.1:18080"
	AWXURL         = "http://" + AWXAddr
	DeviceHiveURL  = "http://" + DeviceHiveAddr + "/auth/rest"
)

// The users the samples name.
const (
	AWXUser           = "ci-bot"
	AWXPassword       = "playground-password"
	DeviceHiveSecret  = "devicehive"
	DeviceHiveUserID  = 2
	DeviceHiveAdminID = 1
)

// Servers are the remote systems of the playground.
type Servers struct {
	AWX        *awxtest.Server
	DeviceHive *dhtest.Server
}

// NewServers returns unstarted servers that know the samples' users.
func NewServers() *Servers {
	s := &Servers{
		AWX:        awxtest.NewUnstartedServer(awxtest.Options{Flavor: awxtest.FlavorController}),
		DeviceHive: dhtest.NewUnstartedServer(dhtest.Options{Secret: DeviceHiveSecret}),
	}
	s.AWX.AddUser(awxtest.User{Username: AWXUser, Password: AWXPassword})
	s.DeviceHive.AddUser(dhtest.User{ID: DeviceHiveAdminID, Login: "admin", Password: "playground-admin", Active: true, Admin: true})
	s.DeviceHive.AddUser(dhtest.User{ID: DeviceHiveUserID, Login: "sensor", Password: "playground-sensor", Active: true})
	return s
}

// StartOnSampleAddrs starts the servers where config/samples expects them.
func (s *Servers) StartOnSampleAddrs() error {
	if err := s.AWX.StartOn(AWXAddr); err != nil {
		return fmt.Errorf("the AWX test server cannot listen on %s (is another playground running?): %w", AWXAddr, err)
	}
	if err := s.DeviceHive.StartOn(DeviceHiveAddr); err != nil {
		s.AWX.Close()
		return fmt.Errorf("the DeviceHive test server cannot listen on %s (is another playground running?): %w", DeviceHiveAddr, err)
	}
	return nil
}

// Close stops the servers.
func (s *Servers) Close() {
	s.AWX.Close()
	s.DeviceHive.Close()
}

// URLs maps the samples' URLs to where these servers listen, for servers started
// on random ports.
func (s *Servers) URLs() *strings.Replacer {
	return strings.NewReplacer(AWXURL, s.AWX.URL(), DeviceHiveURL, s.DeviceHive.URL())
}

// LoadManifests reads every object of the YAML files in dir (but the
// kustomization), Namespaces first, after rewriting their text with urls.
func LoadManifests(dir string, urls *strings.Replacer) ([]*unstructured.Unstructured, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(urls.Replace(string(doc))), &obj.Object); err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			if len(obj.Object) > 0 {
				objs = append(objs, obj)
			}
		}
	}
	slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
		return boolRank(b.GetKind() == "Namespace") - boolRank(a.GetKind() == "Namespace")
	})
	return objs, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
