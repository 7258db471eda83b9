package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type testPKI struct {
	caPool                *x509.CertPool
	caFile                string
	serverCert, serverKey string
	client                tls.Certificate
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// newPKI makes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
func newPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "warden test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	p := &testPKI{caPool: x509.NewCertPool(), caFile: filepath.Join(dir, "ca.pem")}
	p.caPool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP) ([]byte, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		return der, key
	}
	sDER, sKey := issue(2, "warden", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.serverCert, p.serverKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writePEM(t, p.serverCert, "CERTIFICATE", sDER)
	kb, err := x509.MarshalECPrivateKey(sKey)
	require.NoError(t, err)
	writePEM(t, p.serverKey, "EC PRIVATE KEY", kb)
	cDER, cKey := issue(3, "trino-coordinator", x509.ExtKeyUsageClientAuth, nil)
	p.client = tls.Certificate{Certificate: [][]byte{cDER}, PrivateKey: cKey}
	return p
}

// TestMutualTLS: with a client CA, the decision listener accepts only
// clients with a certificate the CA signed; the admin listener uses TLS
// without client certificates.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	opts := testOptions(copyFile(t, "testdata/rules.json"))
	opts.AdminAddr = "127.0.0.1:0"
	opts.DrainDelay = 0
	opts.TLS = TLSOptions{CertFile: pki.serverCert, KeyFile: pki.serverKey, ClientCAFile: pki.caFile}
	s := New(opts, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := runServer(t, ctx, s)
	defer func() { cancel(); require.NoError(t, <-done) }()

	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: pki.caPool}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 5 * time.Second}
	}
	body := `{"input":{"context":` + ctxJSON("alice") + `,"action":{"operation":"AccessCatalog","resource":{"catalog":{"name":"tpch"}}}}}`
	resp, err := client(&pki.client).Post("https://"+s.Addr()+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Contains(t, string(out), `"result":true`)

	_, err = client(nil).Post("https://"+s.Addr()+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
	require.Error(t, err, "no client certificate, no connection")

	resp, err = http.Post("http://"+s.Addr()+"/v1/data/trino/allow", "application/json", strings.NewReader(body))
	if err == nil { // Go's TLS server answers a plain request with a 400
		out, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 400, resp.StatusCode, "plain HTTP is refused on a TLS listener")
		require.NotContains(t, string(out), "result")
	}

	resp, err = client(nil).Get("https://" + s.AdminAddr() + "/health/live")
	require.NoError(t, err, "the admin listener needs no client certificate")
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
}

func TestTLSConfigErrors(t *testing.T) {
	t.Parallel()
	pki := newPKI(t)
	_, err := TLSOptions{CertFile: pki.serverCert}.tlsConfig(true)
	require.ErrorContains(t, err, "tls.key_file")
	_, err = TLSOptions{CertFile: pki.serverCert, KeyFile: pki.serverKey, ClientCAFile: pki.serverKey}.tlsConfig(true)
	require.ErrorContains(t, err, "no PEM certificate")
	_, err = TLSOptions{CertFile: "/nonexistent.pem", KeyFile: pki.serverKey}.tlsConfig(true)
	require.ErrorContains(t, err, "tls.cert_file")
	_, err = TLSOptions{CertFile: pki.serverCert, KeyFile: pki.serverKey, ClientCAFile: pki.caFile, ClientAuth: "maybe"}.tlsConfig(true)
	require.ErrorContains(t, err, "tls.client_auth")
}
