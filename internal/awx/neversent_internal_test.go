package awx

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/tokenoperator/token-operator/internal/remote"
)

// A create is taken as never sent only when no attempt got a connection: after
// that, whatever the error says, AWX may have the request.
func TestNeverSent_TheCreateItself(t *testing.T) {
	t.Run("nothing listens", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		err = createAt(t, "http://"+addr, nil)
		if !NeverSent(err) {
			t.Errorf("a refused connection: NeverSent(%v) = false", err)
		}
	})
	t.Run("the connection closes once the create is read", func(t *testing.T) {
		var received atomic.Bool
		addr := serve(t, func(c net.Conn) {
			if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
				_, _ = io.Copy(io.Discard, req.Body)
				received.Store(true)
			}
		})
		err := createAt(t, "http://"+addr, nil)
		if !received.Load() || err == nil || NeverSent(err) {
			t.Errorf("AWX read the create (%v), then hung up: NeverSent(%v) = true", received.Load(), err)
		}
	})
	t.Run("HTTP/2 resets the create and the retry cannot connect", func(t *testing.T) {
		cert, certPEM := selfSigned(t)
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := tls.NewListener(raw, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
		var received atomic.Bool
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = ln.Close() // the transport's retry finds nobody
			defer c.Close()
			preface := make([]byte, len(http2.ClientPreface))
			if _, err := io.ReadFull(c, preface); err != nil {
				return
			}
			fr := http2.NewFramer(c, c)
			_ = fr.WriteSettings()
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					return
				}
				switch f := f.(type) {
				case *http2.SettingsFrame:
					if !f.IsAck() {
						_ = fr.WriteSettingsAck()
					}
				case *http2.DataFrame:
					if f.StreamEnded() {
						received.Store(true) // AWX has the whole create
						_ = fr.WriteGoAway(f.StreamID, http2.ErrCodeNo, nil)
						_ = fr.WriteRSTStream(f.StreamID, http2.ErrCodeProtocol)
						time.Sleep(200 * time.Millisecond)
						return
					}
				}
			}
		}()
		err = createAt(t, "https://"+raw.Addr().String(), certPEM)
		if !received.Load() || err == nil || NeverSent(err) {
			t.Errorf("AWX read the create (%v) before the reset: NeverSent(%v) = true", received.Load(), err)
		}
	})
}

// createAt creates a token at url with a client that knows the user and the
// API already, so that the create is its first and only request.
func createAt(t *testing.T, url string, caBundle []byte) error {
	t.Helper()
	tr, err := remote.NewTransport(caBundle, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URL: url, API: APIController, Transport: tr, Timeout: 5 * time.Second}, Credentials{Username: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	c.StartFrom(Learnt{api: APIController, prefix: controllerPrefix, me: &User{ID: 1, Username: "u"}})
	_, err = c.CreateToken(context.Background(), CreateRequest{Description: "d", Scopes: []string{"write"}})
	return err
}

// serve accepts one connection on a local port and hands it to handle.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c)
	}()
	return ln.Addr().String()
}

func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
