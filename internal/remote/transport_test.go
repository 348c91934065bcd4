package remote_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/tokenoperator/token-operator/internal/remote"
)

func TestNewTransport(t *testing.T) {
	ca := selfSignedPEM(t)
	for _, tc := range []struct {
		name     string
		caBundle []byte
		insecure bool
		wantCA   bool
		reason   string
	}{
		{name: "system roots"},
		{name: "insecure", insecure: true},
		{name: "CA bundle", caBundle: ca, wantCA: true},
		{name: "CA bundle among other text", caBundle: append([]byte("# our CA\n"), ca...), wantCA: true},
		{name: "not PEM", caBundle: []byte("not pem"), reason: "no PEM certificate found"},
		{name: "PEM without a certificate", caBundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}),
			reason: "no PEM certificate found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := remote.NewTransport(tc.caBundle, tc.insecure)
			if tc.reason != "" {
				var fe *remote.FieldError
				if !errors.As(err, &fe) || fe.Field != remote.FieldCABundle || fe.Reason != tc.reason {
					t.Fatalf("NewTransport = %v; want a FieldError caBundle: %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg := tr.TLSClientConfig
			if cfg.MinVersion != tls.VersionTLS12 || cfg.InsecureSkipVerify != tc.insecure || (cfg.RootCAs != nil) != tc.wantCA {
				t.Errorf("TLS config: min %x, insecure %v, own roots %v", cfg.MinVersion, cfg.InsecureSkipVerify, cfg.RootCAs != nil)
			}
			if tr.Proxy == nil {
				t.Error("proxy settings of http.DefaultTransport lost")
			}
		})
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test CA"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// Clients with the same TLS settings share one transport, so that its kept-alive
// connections serve every reconcile; other settings get another.
func TestSharedTransport(t *testing.T) {
	ca := selfSignedPEM(t)
	first, err := remote.SharedTransport(ca, false)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := remote.SharedTransport(append([]byte(nil), ca...), false)
	insecure, _ := remote.SharedTransport(ca, true)
	systemRoots, _ := remote.SharedTransport(nil, false)
	if again != first {
		t.Error("the same CA bundle got another transport")
	}
	if insecure == first || systemRoots == first || insecure == systemRoots {
		t.Error("other TLS settings share a transport")
	}
	if _, err := remote.SharedTransport([]byte("not pem"), false); err == nil {
		t.Error("a bad CA bundle was accepted")
	}
}
