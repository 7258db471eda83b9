package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrGone means the admin API no longer knows the user or group: it was
// deleted after the event.
var ErrGone = errors.New("keycloak: not found")

// ErrAdminAPI means the admin API could not be used: unreachable, failing,
// or refusing the client. It is transient from the sender's point of view,
// and is answered 503.
var ErrAdminAPI = errors.New("keycloak admin API unavailable")

// User is the part of Keycloak's UserRepresentation Warden keeps.
type User struct {
	ID         string              `json:"id"`
	Username   string              `json:"username"`
	Email      string              `json:"email"`
	FirstName  string              `json:"firstName"`
	LastName   string              `json:"lastName"`
	Enabled    bool                `json:"enabled"`
	Attributes map[string][]string `json:"attributes"`
}

// Group is the part of Keycloak's GroupRepresentation Warden keeps.
type Group struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Path is the group's place in the hierarchy, "/parent/child".
	Path string `json:"path"`
	// ParentID is the parent group's ID for a subgroup (Keycloak 23 and
	// later send it).
	ParentID string `json:"parentId,omitempty"`
}

// groupPage is how many groups one /users/{id}/groups request asks for.
const groupPage = 100

// maxAdminBody bounds an admin API answer.
const maxAdminBody = 4 << 20

// AdminClient reads users and groups through Keycloak's admin REST API,
// authenticated as a confidential client with the client-credentials grant;
// its service account needs the realm-management roles view-users (and
// query-groups). It caches the access token until shortly before it
// expires. It is safe for concurrent use.
type AdminClient struct {
	base, realm    string
	clientID       string
	clientSecret   string
	http           *http.Client
	now            func() time.Time
	mu             sync.Mutex
	token          string
	tokenExpiresAt time.Time
}

// NewAdminClient returns a client for realm at baseURL (the server's root,
// e.g. "https://keycloak.example.com", with "/auth" for old deployments).
func NewAdminClient(baseURL, realm, clientID, clientSecret string, hc *http.Client, now func() time.Time) (*AdminClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("keycloak: base URL %q must be an absolute http(s) URL", baseURL)
	}
	switch {
	case realm == "":
		return nil, errors.New("keycloak: a realm is required")
	case clientID == "" || clientSecret == "":
		return nil, errors.New("keycloak: the admin API client ID and secret are required")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return &AdminClient{base: strings.TrimSuffix(baseURL, "/"), realm: realm, clientID: clientID,
		clientSecret: clientSecret, http: hc, now: now}, nil
}

// User returns a user. It returns ErrGone when Keycloak does not know it,
// and an error wrapping ErrAdminAPI when the API cannot be used.
func (c *AdminClient) User(ctx context.Context, id string) (User, error) {
	var u User
	err := c.get(ctx, "/users/"+url.PathEscape(id), &u)
	return u, err
}

// UserGroups returns every group a user is a direct member of.
func (c *AdminClient) UserGroups(ctx context.Context, id string) ([]Group, error) {
	var all []Group
	for first := 0; ; first += groupPage {
		var page []Group
		path := "/users/" + url.PathEscape(id) + "/groups?briefRepresentation=true&first=" + strconv.Itoa(first) + "&max=" + strconv.Itoa(groupPage)
		if err := c.get(ctx, path, &page); err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < groupPage {
			return all, nil
		}
	}
}

// Group returns a group.
func (c *AdminClient) Group(ctx context.Context, id string) (Group, error) {
	var g Group
	err := c.get(ctx, "/groups/"+url.PathEscape(id), &g)
	return g, err
}

// get GETs path under the realm's admin API into v, refreshing the token
// once if Keycloak refuses it.
func (c *AdminClient) get(ctx context.Context, path string, v any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/admin/realms/"+url.PathEscape(c.realm)+path, nil)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrAdminAPI, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("%w: GET %s: %w", ErrAdminAPI, redactQuery(path), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminBody))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%w: GET %s: %w", ErrAdminAPI, redactQuery(path), err)
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			c.dropToken(tok)
			continue
		case resp.StatusCode == http.StatusNotFound:
			return ErrGone
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("%w: GET %s answered %d", ErrAdminAPI, redactQuery(path), resp.StatusCode)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("%w: GET %s: %w", ErrAdminAPI, redactQuery(path), err)
		}
		return nil
	}
}

func redactQuery(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}

// accessToken returns the cached token, or gets a new one when it expires
// within 30 seconds.
func (c *AdminClient) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.tokenExpiresAt) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.clientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		c.base+"/realms/"+url.PathEscape(c.realm)+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAdminAPI, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: token: %w", ErrAdminAPI, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: token endpoint answered %d (check the client ID and secret)", ErrAdminAPI, resp.StatusCode)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("%w: token endpoint answered without an access token", ErrAdminAPI)
	}
	c.token = tr.AccessToken
	c.tokenExpiresAt = c.now().Add(time.Duration(tr.ExpiresIn)*time.Second - 30*time.Second)
	return c.token, nil
}

// dropToken forgets tok if it is still the cached one.
func (c *AdminClient) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}
