package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// authFlags are how the admin commands get a bearer token, in order of
// precedence: a token given outright, the OAuth2 client-credentials flow (for
// scripts and CI), or the device-code flow (for people at a terminal).
type authFlags struct {
	token        string
	issuer       string
	clientID     string
	clientSecret string
	scopes       string
	device       bool
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (a *authFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.token, "token", "", "bearer token for the admin API (env WARDEN_TOKEN)")
	fs.StringVar(&a.issuer, "issuer", envOr("WARDEN_OIDC_ISSUER", ""), "OIDC issuer to get a token from (env WARDEN_OIDC_ISSUER)")
	fs.StringVar(&a.clientID, "client-id", envOr("WARDEN_CLIENT_ID", ""), "OAuth2 client ID (env WARDEN_CLIENT_ID)")
	fs.StringVar(&a.clientSecret, "client-secret", "", "OAuth2 client secret for the client-credentials flow (env WARDEN_CLIENT_SECRET)")
	fs.StringVar(&a.scopes, "scopes", envOr("WARDEN_SCOPES", "openid"), "space-separated OAuth2 scopes to ask for (env WARDEN_SCOPES)")
	fs.BoolVar(&a.device, "device", false, "log in with the device-code flow: open the printed URL and enter the code")
}

// bearerToken returns the token to send, obtaining one if needed. Secrets
// come from the environment by default so they stay out of shell history.
func (a *authFlags) bearerToken(ctx context.Context, stderr io.Writer) (string, error) {
	if a.token == "" {
		a.token = os.Getenv("WARDEN_TOKEN")
	}
	if a.token != "" {
		return a.token, nil
	}
	if a.clientSecret == "" {
		a.clientSecret = os.Getenv("WARDEN_CLIENT_SECRET")
	}
	if a.issuer == "" || a.clientID == "" {
		return "", errors.New("no credentials: set WARDEN_TOKEN, or an issuer and client ID (--issuer, --client-id) with a client secret or --device")
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(dctx, a.issuer)
	if err != nil {
		return "", fmt.Errorf("OIDC discovery at %s: %w", a.issuer, err)
	}
	scopes := strings.Fields(a.scopes)
	if a.device {
		cfg := &oauth2.Config{ClientID: a.clientID, ClientSecret: a.clientSecret, Endpoint: provider.Endpoint(), Scopes: scopes}
		if cfg.Endpoint.DeviceAuthURL == "" {
			return "", fmt.Errorf("issuer %s offers no device authorization endpoint", a.issuer)
		}
		da, err := cfg.DeviceAuth(ctx)
		if err != nil {
			return "", fmt.Errorf("start device login: %w", err)
		}
		uri := da.VerificationURIComplete
		if uri == "" {
			uri = da.VerificationURI
		}
		fmt.Fprintf(stderr, "To log in, open %s and enter the code %s\n", uri, da.UserCode)
		tok, err := cfg.DeviceAccessToken(ctx, da)
		if err != nil {
			return "", fmt.Errorf("device login: %w", err)
		}
		return tok.AccessToken, nil
	}
	if a.clientSecret == "" {
		return "", errors.New("the client-credentials flow needs a client secret (WARDEN_CLIENT_SECRET); use --device to log in as a person")
	}
	cc := clientcredentials.Config{ClientID: a.clientID, ClientSecret: a.clientSecret,
		TokenURL: provider.Endpoint().TokenURL, Scopes: scopes}
	tok, err := cc.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("client-credentials token: %w", err)
	}
	return tok.AccessToken, nil
}
