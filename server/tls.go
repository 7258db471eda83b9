package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// TLSOptions configure TLS on Warden's listeners.
type TLSOptions struct {
	// CertFile and KeyFile enable TLS on both listeners. They are re-read
	// when they change, so a rotated certificate needs no restart.
	CertFile, KeyFile string
	// ClientCAFile enables client-certificate authentication (mTLS) on the
	// decision listener: Trino's plugin presents the keystore configured by
	// opa.http-client.key-store-path.
	ClientCAFile string
	// ClientAuth is "require" (the default with a CA file: no certificate,
	// no connection) or "verify-if-given".
	ClientAuth string
}

// Enabled reports whether TLS is configured.
func (o TLSOptions) Enabled() bool { return o.CertFile != "" }

// certReloader serves the certificate, re-reading the files at most every
// few seconds when their modification time changes.
type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

const certRecheck = 5 * time.Second

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) load() error {
	st, err := os.Stat(r.certFile)
	if err != nil {
		return fmt.Errorf("tls.cert_file: %w", err)
	}
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls.cert_file and tls.key_file: %w", err)
	}
	r.cert, r.modTime, r.checked = &c, st.ModTime(), time.Now()
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) > certRecheck {
		r.checked = time.Now()
		if st, err := os.Stat(r.certFile); err == nil && !st.ModTime().Equal(r.modTime) {
			// A half-written pair fails to load; keep serving the old one.
			_ = r.load()
		}
	}
	return r.cert, nil
}

// tlsConfig builds the TLS configuration of a listener; clientCerts says
// whether this listener checks client certificates.
func (o TLSOptions) tlsConfig(clientCerts bool) (*tls.Config, error) {
	if !o.Enabled() {
		return nil, nil
	}
	if o.KeyFile == "" {
		return nil, errors.New("tls.key_file is required with tls.cert_file")
	}
	r, err := newCertReloader(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}
	if clientCerts && o.ClientCAFile != "" {
		pem, err := os.ReadFile(o.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file %s holds no PEM certificate", o.ClientCAFile)
		}
		cfg.ClientCAs = pool
		switch o.ClientAuth {
		case "", "require":
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		case "verify-if-given":
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		default:
			return nil, fmt.Errorf("tls.client_auth must be require or verify-if-given, got %q", o.ClientAuth)
		}
	}
	return cfg, nil
}
