// Package oidctest is a small, honest OIDC issuer for tests: it serves
// discovery and a JWKS over HTTP and signs tokens with its own RSA key, so
// tokens are verified exactly as a real provider's are.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
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
	tb     testing.TB

	mu      sync.Mutex
	clients map[string]client
	devices map[string]*device // by device code
}

type client struct {
	secret   string
	audience string
	extra    map[string]any
}

type device struct {
	userCode string
	claims   *Claims // nil until approved
	denied   bool
}

// New starts an issuer; it stops at the end of the test.
func New(tb testing.TB) *Issuer {
	tb.Helper()
	iss, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	iss.tb = tb
	tb.Cleanup(iss.Close)
	return iss
}

// Start starts an issuer outside a test (a TestMain); Close stops it.
// Token then needs a TB only to report a signing failure.
func Start() (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	iss := &Issuer{key: key, keyID: "test-key-1", clients: map[string]client{}, devices: map[string]*device{}}
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
	mux.HandleFunc("POST /token", iss.handleToken)
	mux.HandleFunc("POST /device", iss.handleDevice)
	iss.server = httptest.NewServer(mux)
	iss.URL = iss.server.URL
	iss.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", iss.keyID))
	if err != nil {
		iss.server.Close()
		return nil, err
	}
	return iss, nil
}

// Close stops the issuer.
func (i *Issuer) Close() { i.server.Close() }

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
	if tb != nil {
		tb.Helper()
	}
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
	if err != nil && tb == nil {
		panic(err) // an issuer from Start, outside a test: a broken key
	}
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// AddClient registers a confidential client for the client-credentials
// grant: its tokens have the client ID as subject, the audience, and the
// extra claims.
func (i *Issuer) AddClient(id, secret, audience string, extra map[string]any) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.clients[id] = client{secret: secret, audience: audience, extra: extra}
}

// ApproveDevice completes a pending device authorization, as the user
// would in a browser: the device's next poll gets a token with claims.
func (i *Issuer) ApproveDevice(userCode string, claims Claims) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, d := range i.devices {
		if d.userCode == userCode {
			d.claims = &claims
			return true
		}
	}
	return false
}

// PendingUserCodes lists the user codes of device authorizations not yet
// approved.
func (i *Issuer) PendingUserCodes() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	var out []string
	for _, d := range i.devices {
		if d.claims == nil && !d.denied {
			out = append(out, d.userCode)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (i *Issuer) writeToken(w http.ResponseWriter, c Claims) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": i.sign(i.tb, i.signer, c), "token_type": "Bearer", "expires_in": 3600,
	})
}

func (i *Issuer) handleDevice(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	dc, uc := randomHex(16), randomHex(4)
	i.mu.Lock()
	i.devices[dc] = &device{userCode: uc}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"device_code": dc, "user_code": uc, "verification_uri": i.URL + "/activate",
		"verification_uri_complete": i.URL + "/activate?user_code=" + uc, "expires_in": 600, "interval": 1,
	})
}

func (i *Issuer) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		i.mu.Lock()
		c, known := i.clients[id]
		i.mu.Unlock()
		if !known || c.secret != secret {
			oauthError(w, http.StatusUnauthorized, "invalid_client")
			return
		}
		i.writeToken(w, Claims{Subject: id, Audience: c.audience, Extra: c.extra})
	case "urn:ietf:params:oauth:grant-type:device_code":
		i.mu.Lock()
		d, known := i.devices[r.PostForm.Get("device_code")]
		var claims *Claims
		if known {
			claims = d.claims
		}
		i.mu.Unlock()
		switch {
		case !known:
			oauthError(w, http.StatusBadRequest, "expired_token")
		case claims == nil:
			oauthError(w, http.StatusBadRequest, "authorization_pending")
		default:
			i.writeToken(w, *claims)
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}
