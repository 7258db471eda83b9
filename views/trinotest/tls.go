package trinotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/trinodb/trino-go-client/trino"
)

// Password authentication needs HTTPS: over plain HTTP, Trino answers a
// Basic header with "Password not allowed for insecure authentication", even
// with http-server.authentication.allow-insecure-over-http. So with
// Options.Users the coordinator also serves HTTPS on a second loopback port,
// with a self-signed certificate for 127.0.0.1 made per instance, and
// clients connect there trusting only that certificate.

// writeCertificate makes a self-signed ECDSA certificate for 127.0.0.1 and
// writes it with its key as one PEM file, the form Trino's
// http-server.https.keystore.path takes. It returns the certificate pool
// clients trust.
func writeCertificate(path string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "trinotest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create the certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.WriteFile(path, out, 0o600); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}

// HTTPSURL returns the coordinator's HTTPS base URL, "" without password
// authentication.
func (t *Trino) HTTPSURL() string {
	if t.httpsPort == 0 {
		return ""
	}
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(t.httpsPort))
}

// DSN returns a trino-go-client data source name for user. With password
// authentication, it connects over HTTPS and a user listed in
// Options.Users authenticates with its password; any other user sends no
// credentials and is refused.
func (t *Trino) DSN(user string) string {
	if t.httpsPort == 0 {
		return (&url.URL{Scheme: "http", User: url.User(user), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(t.port))}).String()
	}
	return t.ImpersonationDSN(user, user)
}

// ImpersonationDSN returns a data source name that authenticates as login
// (HTTP Basic with its password from Options.Users) and runs queries as
// user (X-Trino-User), so Trino asks whether login may impersonate user.
// It needs password authentication (Options.Users). The Basic header and
// the trust in the instance's certificate come from an HTTP client
// registered with the driver (custom_client).
func (t *Trino) ImpersonationDSN(login, user string) string {
	key := "trinotest-" + strconv.Itoa(t.port) + "-" + login
	t.cmu.Lock()
	registered := false
	for _, k := range t.clients {
		registered = registered || k == key
	}
	if !registered {
		var rt http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: t.roots, MinVersion: tls.VersionTLS12}}
		if pw, ok := t.opts.Users[login]; ok {
			rt = &basicAuth{header: "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+pw)), base: rt}
		}
		_ = trino.RegisterCustomClient(key, &http.Client{Transport: rt}) //nolint:errcheck // only boolean keys are refused.
		t.clients = append(t.clients, key)
	}
	t.cmu.Unlock()
	scheme, port := "https", t.httpsPort
	if port == 0 {
		scheme, port = "http", t.port
	}
	u := &url.URL{Scheme: scheme, User: url.User(user), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		RawQuery: "custom_client=" + url.QueryEscape(key)}
	return u.String()
}

// basicAuth adds an Authorization header to every request.
type basicAuth struct {
	header string
	base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", b.header)
	return b.base.RoundTrip(req)
}
