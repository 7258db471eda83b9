// Package oidctest is a small, honest OIDC issuer for tests: it serves
// discovery and a JWKS over HTTP and signs tokens with its own RSA key, so
// tokens are verified exactly as a real provider's are.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is a running test issuer.
type Issuer struct {
	URL    string
	key    *rsa.PrivateKey
	keyID  string
	server *httptest.Server
	signer jose.Signer
}

// New starts an issuer; it stops at the end of the test.
func New(tb testing.TB) *Issuer {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	iss := &Issuer{key: key, keyID: "test-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                iss.URL,
			"jwks_uri":                              iss.URL + "/keys",
			"authorization_endpoint":                iss.URL + "/authorize",
			"token_endpoint":                        iss.URL + "/token",
			"device_authorization_endpoint":         iss.URL + "/device",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: iss.keyID, Algorithm: string(jose.RS256), Use: "sig"},
		}})
	})
	iss.server = httptest.NewServer(mux)
	iss.URL = iss.server.URL
	tb.Cleanup(iss.server.Close)
	iss.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", iss.keyID))
	if err != nil {
		tb.Fatal(err)
	}
	return iss
}

// Claims are a token's claims. Zero times get defaults: issued now,
// expiring in an hour.
type Claims struct {
	Subject   string
	Audience  string
	Issuer    string // defaults to the issuer's URL
	IssuedAt  time.Time
	NotBefore time.Time
	Expiry    time.Time
	Extra     map[string]any
}

// Token signs a token with the issuer's key.
func (i *Issuer) Token(tb testing.TB, c Claims) string {
	tb.Helper()
	return i.sign(tb, i.signer, c)
}

// TokenSignedByStranger signs a token with a key the issuer does not
// publish: verification must fail.
func (i *Issuer) TokenSignedByStranger(tb testing.TB, c Claims) string {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", i.keyID))
	if err != nil {
		tb.Fatal(err)
	}
	return i.sign(tb, s, c)
}

func (i *Issuer) sign(tb testing.TB, s jose.Signer, c Claims) string {
	tb.Helper()
	now := time.Now()
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.Expiry.IsZero() {
		c.Expiry = now.Add(time.Hour)
	}
	if c.Issuer == "" {
		c.Issuer = i.URL
	}
	std := jwt.Claims{Subject: c.Subject, Issuer: c.Issuer, Audience: jwt.Audience{c.Audience},
		IssuedAt: jwt.NewNumericDate(c.IssuedAt), Expiry: jwt.NewNumericDate(c.Expiry)}
	if !c.NotBefore.IsZero() {
		std.NotBefore = jwt.NewNumericDate(c.NotBefore)
	}
	b := jwt.Signed(s).Claims(std)
	if c.Extra != nil {
		b = b.Claims(c.Extra)
	}
	tok, err := b.Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}
