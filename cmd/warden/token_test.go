package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/server/auth"
	"github.com/trino-warden/warden/server/auth/oidctest"
)

// The tokens the CLI obtains must verify with the same Authenticator the
// admin API uses.
func TestBearerTokenFlows(t *testing.T) {
	iss := oidctest.New(t)
	iss.AddClient("ci-bot", "s3cret", "warden", map[string]any{"groups": []string{"warden-admins"}})
	verifier, err := auth.New(auth.Config{Issuer: iss.URL, Audience: "warden", AdminValues: []string{"warden-admins"}})
	require.NoError(t, err)
	ctx := context.Background()

	t.Run("client credentials", func(t *testing.T) {
		a := authFlags{issuer: iss.URL, clientID: "ci-bot", clientSecret: "s3cret", scopes: "openid"}
		tok, err := a.bearerToken(ctx, &bytes.Buffer{})
		require.NoError(t, err)
		p, err := verifier.Authenticate(ctx, "Bearer "+tok)
		require.NoError(t, err)
		require.Equal(t, "ci-bot", p.Subject)
		require.Equal(t, auth.RoleAdmin, p.Role)
	})
	t.Run("wrong secret", func(t *testing.T) {
		a := authFlags{issuer: iss.URL, clientID: "ci-bot", clientSecret: "nope"}
		_, err := a.bearerToken(ctx, &bytes.Buffer{})
		require.ErrorContains(t, err, "client-credentials")
	})
	t.Run("device code", func(t *testing.T) {
		var out bytes.Buffer
		go func() {
			// The person opens the URL and approves.
			for range 100 {
				if codes := iss.PendingUserCodes(); len(codes) == 1 {
					iss.ApproveDevice(codes[0], oidctest.Claims{Subject: "ann", Audience: "warden", Extra: map[string]any{"groups": []string{"warden-admins"}}})
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		a := authFlags{issuer: iss.URL, clientID: "warden-cli", device: true}
		tok, err := a.bearerToken(ctx, &out)
		require.NoError(t, err)
		require.True(t, strings.Contains(out.String(), "enter the code"), out.String())
		p, err := verifier.Authenticate(ctx, "Bearer "+tok)
		require.NoError(t, err)
		require.Equal(t, "ann", p.Subject)
	})
	t.Run("a token given outright", func(t *testing.T) {
		a := authFlags{token: "abc"}
		tok, err := a.bearerToken(ctx, &bytes.Buffer{})
		require.NoError(t, err)
		require.Equal(t, "abc", tok)
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("WARDEN_TOKEN", "")
		a := authFlags{}
		_, err := a.bearerToken(ctx, &bytes.Buffer{})
		require.ErrorContains(t, err, "no credentials")
	})
}
