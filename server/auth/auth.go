// Package auth authenticates callers of Warden's admin API with OIDC bearer
// tokens and maps them to Warden roles.
//
// Tokens are verified with go-oidc: signature against the issuer's keys
// (found by discovery, or at an explicit JWKS URL), issuer, audience,
// expiry and not-before. A configurable claim (a list of groups or roles,
// possibly nested such as realm_access.roles) maps the caller to one of
// three roles: administrator, data owner, or reader. A data owner's rights
// are scoped: what they may manage is decided by the grants model, not here.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Role is what a caller may do through the admin API.
type Role uint8

// Roles, from least to most powerful.
const (
	RoleNone   Role = iota // authenticated, but mapped to no Warden role
	RoleReader             // read grants, policies, the directory and the audit
	RoleOwner              // also manage grants where the grants model makes them an owner
	RoleAdmin              // everything
)

func (r Role) String() string {
	return [...]string{"none", "reader", "owner", "admin"}[r]
}

// Principal is an authenticated caller.
type Principal struct {
	// Subject is the token's sub claim.
	Subject string
	// Name is the caller's display name for the change log: the configured
	// name claim, falling back to the subject.
	Name string
	// Role is the most powerful role the caller's claim values map to.
	Role Role
	// Values are the values of the role claim, for scoped decisions.
	Values []string
	// Issuer is the token's issuer.
	Issuer string
}

// Config configures token verification and role mapping.
type Config struct {
	// Issuer is the OIDC issuer URL; required.
	Issuer string
	// Audience is the expected aud (the client ID Warden's tokens are for);
	// required.
	Audience string
	// JWKSURL, when set, skips discovery and fetches keys from this URL.
	JWKSURL string
	// RoleClaim is the claim holding the caller's groups or roles; a dotted
	// path reaches nested claims (realm_access.roles for Keycloak).
	RoleClaim string
	// NameClaim is the claim recorded as the actor in the change log
	// (preferred_username, email…); the subject when absent.
	NameClaim string
	// AdminValues, OwnerValues and ReaderValues are the role-claim values
	// that map to each role.
	AdminValues, OwnerValues, ReaderValues []string
	// Now overrides the clock, for tests.
	Now func() time.Time
}

// Errors. Both mean 401 to the API layer.
var (
	ErrNoToken      = errors.New("no bearer token: send Authorization: Bearer <token>")
	ErrInvalidToken = errors.New("invalid token")
)

// Authenticator verifies tokens. It discovers the issuer lazily, so Warden
// starts even while the identity provider is briefly unreachable; until it
// has keys, every token is rejected.
type Authenticator struct {
	cfg Config

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
}

// New validates the configuration and returns an authenticator. It does
// not contact the issuer; the first verification does.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("oidc.issuer is required for the admin API")
	}
	if cfg.Audience == "" {
		return nil, errors.New("oidc.audience is required for the admin API")
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "groups"
	}
	return &Authenticator{cfg: cfg}, nil
}

func (a *Authenticator) getVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.verifier != nil {
		return a.verifier, nil
	}
	oc := &oidc.Config{ClientID: a.cfg.Audience, Now: a.cfg.Now}
	// Keys are fetched with a context that outlives this request.
	kctx := oidc.ClientContext(context.WithoutCancel(ctx), nil)
	if a.cfg.JWKSURL != "" {
		a.verifier = oidc.NewVerifier(a.cfg.Issuer, oidc.NewRemoteKeySet(kctx, a.cfg.JWKSURL), oc)
		return a.verifier, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(dctx, a.cfg.Issuer), a.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OIDC discovery at %s failed: %w", a.cfg.Issuer, err)
	}
	a.verifier = p.VerifierContext(kctx, oc)
	return a.verifier, nil
}

// ErrUnavailable means the issuer could not be reached to get its keys; the
// API layer answers 503.
var ErrUnavailable = errors.New("identity provider unavailable")

// Authenticate verifies an Authorization header value and returns the
// caller.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*Principal, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(header, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return nil, ErrNoToken
	}
	v, err := a.getVerifier(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrInvalidToken, err)
	}
	p := &Principal{Subject: tok.Subject, Issuer: tok.Issuer, Name: tok.Subject}
	if a.cfg.NameClaim != "" {
		if s, ok := claims[a.cfg.NameClaim].(string); ok && s != "" {
			p.Name = s
		}
	}
	p.Values = claimValues(claims, a.cfg.RoleClaim)
	p.Role = a.roleOf(p.Values)
	return p, nil
}

func (a *Authenticator) roleOf(values []string) Role {
	role := RoleNone
	for _, v := range values {
		switch {
		case slices.Contains(a.cfg.AdminValues, v):
			return RoleAdmin
		case slices.Contains(a.cfg.OwnerValues, v):
			role = max(role, RoleOwner)
		case slices.Contains(a.cfg.ReaderValues, v):
			role = max(role, RoleReader)
		}
	}
	return role
}

// claimValues reads a claim by dotted path as a list of strings; a single
// string counts as a list of one.
func claimValues(claims map[string]any, path string) []string {
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
