// Command image writes an OCI image archive without a Docker engine: one layer
// holding the static binary of each architecture, run as a nonroot user with no
// shell, in a multi-architecture index. `make image` builds the manager's binaries
// and runs it; the end-to-end tests build their test programs' images with it.
//
// Usage: image -o bin/token-operator-image.tar -ref token-operator:dev linux/amd64=bin/image/manager-linux-amd64 ...
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// nonroot is the user the manager runs as: distroless's nonroot, so that
// `runAsNonRoot` holds without a passwd file.
const nonroot = "65532:65532"

// epoch is every timestamp in the image, so that the same binaries make the
// same image.
var epoch = time.Unix(0, 0).UTC()

func main() {
	out := flag.String("o", "bin/token-operator-image.tar", "The OCI image archive to write.")
	ref := flag.String("ref", "token-operator:dev", "The image reference the archive names (repository:tag).")
	version := flag.String("version", "dev", "The version the image's labels carry.")
	name := flag.String("name", "manager", "The binary's name in the image, run as /NAME.")
	title := flag.String("title", "token-operator", "The image's title label.")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "image: name at least one os/arch=binary")
		os.Exit(2)
	}
	if err := write(*out, *ref, program{name: *name, title: *title, version: *version}, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

// program is what an image runs and says of itself.
type program struct{ name, title, version string }

// write builds the index of one image per os/arch=binary and writes it to out
// as an OCI archive (an OCI image layout in a tar).
func write(out, ref string, prog program, platforms []string) error {
	index := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		platform, binary, ok := strings.Cut(p, "=")
		osName, arch, ok2 := strings.Cut(platform, "/")
		if !ok || !ok2 {
			return fmt.Errorf("%q is not os/arch=binary", p)
		}
		img, err := imageOf(binary, osName, arch, prog)
		if err != nil {
			return err
		}
		index = mutate.AppendManifests(index, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: osName, Architecture: arch}}})
	}
	dir, err := os.MkdirTemp("", "token-operator-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	// containerd names an imported image by the first annotation, other tools by the second.
	if err := path.AppendIndex(index, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          qualified(ref),
		"org.opencontainers.image.ref.name": ref,
	})); err != nil {
		return err
	}
	return tarDir(dir, out)
}

// imageOf is the image of one architecture: the binary as /NAME.
func imageOf(binary, osName, arch string, prog program) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := singleFileTar(prog.name, data)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Created = osName, arch, v1.Time{Time: epoch}
	cfg.Config.User = nonroot
	cfg.Config.Entrypoint = []string{"/" + prog.name}
	cfg.Config.WorkingDir = "/"
	cfg.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   prog.title,
		"org.opencontainers.image.version": prog.version,
		"org.opencontainers.image.source":  "https://github.com/tokenoperator/token-operator",
	}
	return mutate.ConfigFile(img, cfg)
}

// singleFileTar is a layer holding one executable at the root.
func singleFileTar(name string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Uid: 65532, Gid: 65532,
		ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// qualified is ref as containerd names images: docker.io/library/name:tag for a
// bare name.
func qualified(ref string) string {
	first, _, hasSlash := strings.Cut(ref, "/")
	switch {
	case !hasSlash:
		return "docker.io/library/" + ref
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + ref
	}
	return ref
}

// tarDir writes the files under dir to the tar out, with paths relative to dir.
func tarDir(dir, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime = filepath.ToSlash(rel), epoch
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
