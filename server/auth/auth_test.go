package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
)

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	cfg := auth.Config{Issuer: iss.URL, Audience: "warden", NameClaim: "preferred_username",
		RoleClaim: "realm_access.roles", AdminValues: []string{"warden-admin"}, OwnerValues: []string{"data-owner"}, ReaderValues: []string{"auditor"}}
	a, err := auth.New(cfg)
	require.NoError(t, err)
	withJWKS := cfg
	withJWKS.JWKSURL = iss.URL + "/keys"
	b, err := auth.New(withJWKS)
	require.NoError(t, err)

	roles := func(r ...string) map[string]any {
		return map[string]any{"realm_access": map[string]any{"roles": r}, "preferred_username": "ann"}
	}
	now := time.Now()
	tests := []struct {
		name    string
		token   string
		role    auth.Role
		wantErr error
	}{
		{"admin", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", Extra: roles("x", "warden-admin")}), auth.RoleAdmin, nil},
		{"owner", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", Extra: roles("data-owner", "auditor")}), auth.RoleOwner, nil},
		{"reader", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", Extra: roles("auditor")}), auth.RoleReader, nil},
		{"no role", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden"}), auth.RoleNone, nil},
		{"wrong audience", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "other", Extra: roles("warden-admin")}), 0, auth.ErrInvalidToken},
		{"wrong issuer", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", Issuer: "https://evil.example", Extra: roles("warden-admin")}), 0, auth.ErrInvalidToken},
		{"expired", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", IssuedAt: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour), Extra: roles("warden-admin")}), 0, auth.ErrInvalidToken},
		{"not yet valid", iss.Token(t, oidctest.Claims{Subject: "s1", Audience: "warden", NotBefore: now.Add(time.Hour), Extra: roles("warden-admin")}), 0, auth.ErrInvalidToken},
		{"bad signature", iss.TokenSignedByStranger(t, oidctest.Claims{Subject: "s1", Audience: "warden", Extra: roles("warden-admin")}), 0, auth.ErrInvalidToken},
		{"garbage", "not-a-jwt", 0, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		for name, au := range map[string]*auth.Authenticator{"discovery": a, "jwks": b} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				p, err := au.Authenticate(context.Background(), "Bearer "+tt.token)
				if tt.wantErr != nil {
					require.ErrorIs(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tt.role, p.Role)
				wantName := "ann" // the name claim
				if tt.role == auth.RoleNone {
					wantName = "s1" // no name claim in the token: the subject
				}
				require.Equal(t, wantName, p.Name)
				require.Equal(t, "s1", p.Subject)
			})
		}
	}
	_, err = a.Authenticate(context.Background(), "")
	require.ErrorIs(t, err, auth.ErrNoToken)
	_, err = a.Authenticate(context.Background(), "Basic abc")
	require.ErrorIs(t, err, auth.ErrNoToken)
}

func TestUnreachableIssuer(t *testing.T) {
	t.Parallel()
	a, err := auth.New(auth.Config{Issuer: "http://127.0.0.1:1", Audience: "warden"})
	require.NoError(t, err)
	_, err = a.Authenticate(context.Background(), "Bearer x.y.z")
	require.ErrorIs(t, err, auth.ErrUnavailable)
	_, err = auth.New(auth.Config{Audience: "warden"})
	require.ErrorContains(t, err, "oidc.issuer")
}
