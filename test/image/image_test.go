// Package image checks the manager's OCI image archive that `make image` writes:
// what a cluster runs must be the manager, as a nonroot user, for every
// platform the archive names.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// descriptor, index, manifest and config are the parts of the OCI image spec the
// checks read.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
	} `json:"platform"`
}

type index struct {
	Manifests []descriptor `json:"manifests"`
}

type manifest struct {
	Config descriptor   `json:"config"`
	Layers []descriptor `json:"layers"`
}

type config struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Config       struct {
		User       string   `json:"User"`
		Entrypoint []string `json:"Entrypoint"`
		Cmd        []string `json:"Cmd"`
	} `json:"config"`
}

// archive is the files of an OCI archive, by path.
type archive map[string][]byte

func readArchive(t *testing.T) archive {
	t.Helper()
	path := os.Getenv("IMAGE_ARCHIVE")
	if path == "" {
		t.Fatal("IMAGE_ARCHIVE is not set: run the tests with `make test`, which builds the image archive first")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("failed to open the image archive: %v", err)
	}
	defer f.Close()
	files := archive{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("failed to read the image archive: %v", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("failed to read %s: %v", hdr.Name, err)
			}
			files[hdr.Name] = data
		}
	}
}

// blob decodes the JSON blob d points at into v.
func (a archive) blob(t *testing.T, d descriptor, v any) []byte {
	t.Helper()
	data, ok := a["blobs/"+strings.Replace(d.Digest, ":", "/", 1)]
	if !ok {
		t.Fatalf("the archive has no blob %s", d.Digest)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("blob %s is not JSON: %v", d.Digest, err)
		}
	}
	return data
}

// platforms returns the image index the archive names, and its reference.
func (a archive) platforms(t *testing.T) (index, string) {
	t.Helper()
	var top index
	if err := json.Unmarshal(a["index.json"], &top); err != nil || len(top.Manifests) != 1 {
		t.Fatalf("index.json does not name one image index: %v %s", err, a["index.json"])
	}
	var idx index
	a.blob(t, top.Manifests[0], &idx)
	return idx, top.Manifests[0].Annotations["org.opencontainers.image.ref.name"]
}

func TestImage_OneManagerImagePerPlatform(t *testing.T) {
	a := readArchive(t)
	idx, ref := a.platforms(t)
	if ref == "" {
		t.Error("the archive names no image reference")
	}
	want := map[string]bool{"linux/amd64": false, "linux/arm64": false}
	for _, d := range idx.Manifests {
		platform := d.Platform.OS + "/" + d.Platform.Architecture
		want[platform] = true
		var m manifest
		a.blob(t, d, &m)
		var c config
		a.blob(t, m.Config, &c)
		if c.OS+"/"+c.Architecture != platform {
			t.Errorf("%s: the config says %s/%s", platform, c.OS, c.Architecture)
		}
		if c.Config.User != "65532:65532" {
			t.Errorf("%s: runs as %q, want the nonroot 65532:65532", platform, c.Config.User)
		}
		if strings.Join(c.Config.Entrypoint, " ") != "/manager" || len(c.Config.Cmd) > 0 {
			t.Errorf("%s: entrypoint %q cmd %q, want /manager alone", platform, c.Config.Entrypoint, c.Config.Cmd)
		}
		if names := layerFiles(t, a, m); len(names) != 1 || names[0] != "manager" {
			t.Errorf("%s: the image holds %v, want the manager alone (no shell)", platform, names)
		}
	}
	for platform, found := range want {
		if !found {
			t.Errorf("the archive has no image for %s", platform)
		}
	}
}

func TestImage_TheEntrypointIsTheManager(t *testing.T) {
	a := readArchive(t)
	idx, _ := a.platforms(t)
	for _, d := range idx.Manifests {
		if d.Platform.OS != runtime.GOOS || d.Platform.Architecture != runtime.GOARCH {
			continue
		}
		var m manifest
		a.blob(t, d, &m)
		bin := filepath.Join(t.TempDir(), "manager")
		if err := os.WriteFile(bin, layerFile(t, a, m, "manager"), 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("manager --help failed: %v\n%s", err, out)
		}
		for _, flag := range []string{"-leader-elect", "-remote-timeout", "-consumer-restart-window"} {
			if !bytes.Contains(out, []byte(flag)) {
				t.Errorf("manager --help does not list %s:\n%s", flag, out)
			}
		}
		return
	}
	t.Fatalf("the archive has no image for %s/%s to run", runtime.GOOS, runtime.GOARCH)
}

// layerFiles lists the regular files of m's layers.
func layerFiles(t *testing.T, a archive, m manifest) []string {
	t.Helper()
	var names []string
	walkLayers(t, a, m, func(hdr *tar.Header, _ io.Reader) { names = append(names, hdr.Name) })
	return names
}

// layerFile returns the content of file name in m's layers.
func layerFile(t *testing.T, a archive, m manifest, name string) []byte {
	t.Helper()
	var data []byte
	walkLayers(t, a, m, func(hdr *tar.Header, r io.Reader) {
		if hdr.Name == name {
			data, _ = io.ReadAll(r)
		}
	})
	if data == nil {
		t.Fatalf("the image has no %s", name)
	}
	return data
}

func walkLayers(t *testing.T, a archive, m manifest, visit func(*tar.Header, io.Reader)) {
	t.Helper()
	for _, l := range m.Layers {
		var r io.Reader = bytes.NewReader(a.blob(t, l, nil))
		if strings.HasSuffix(l.MediaType, "+gzip") {
			gz, err := gzip.NewReader(r)
			if err != nil {
				t.Fatalf("layer %s: %v", l.Digest, err)
			}
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", l.Digest, err)
			}
			if hdr.Typeflag == tar.TypeReg {
				visit(hdr, tr)
			}
		}
	}
}
