// Package scim is Warden's SCIM 2.0 service provider (RFC 7643 and RFC 7644):
// identity providers such as Okta, Microsoft Entra ID and Keycloak push users
// and groups into the store's directory through it.
//
// Handler is a net/http handler for the paths under MountPath. Every request
// carries a client's bearer token. Every write is one store transaction that
// takes one store revision, records its changes in the change log as
// "scim:<client name>", and writes nothing when it fails or changes nothing.
package scim

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/store"
)

// MountPath is the path prefix the handler serves; the server routes every
// path under it to the handler unchanged.
const MountPath = "/scim/v2"

// Schema and message URNs of RFC 7643 and RFC 7644.
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	schemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	schemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// contentType is the media type of every SCIM response.
const contentType = "application/scim+json"

// Limits on requests.
const (
	// maxBodyBytes bounds a request body.
	maxBodyBytes = 1 << 20
	// maxPageSize bounds the count of a list request.
	maxPageSize = 1000
	// defaultPageSize is the count of a list request that gives none.
	defaultPageSize = 100
	// maxOperations bounds the operations of one PATCH request.
	maxOperations = 1000
)

// Client is an identity provider allowed to call the SCIM API.
type Client struct {
	// Name identifies the client in the change log ("scim:<Name>") and in
	// logs.
	Name string
	// Token is the bearer token the client sends. It is compared in
	// constant time and never logged.
	Token string
}

// Options configure a Handler.
type Options struct {
	// Clients are the identity providers allowed to call the API; at least
	// one is required, with distinct names and tokens.
	Clients []Client
	// BaseURL is the external URL of the SCIM root, for meta.location (e.g.
	// "https://warden.example.com/scim/v2"). Empty means one derived from
	// each request's scheme and Host.
	BaseURL string
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, when set, receives the handler's metrics.
	Registerer prometheus.Registerer
}

// Handler serves the SCIM API. It is safe for concurrent use.
type Handler struct {
	st      *store.Store
	clients []clientKey
	baseURL string
	log     *slog.Logger
	metrics *metrics
}

// clientKey is a client with its token's SHA-256, which is what requests are
// compared against: hashing first makes the comparison independent of the
// token's length.
type clientKey struct {
	name string
	sum  [sha256.Size]byte
}

// NewHandler returns a Handler over st. It returns an error when there is no
// client, a client has an empty name or token, two clients share a name or a
// token, BaseURL is not an absolute http(s) URL, or the metrics cannot be
// registered.
func NewHandler(st *store.Store, opts Options) (*Handler, error) {
	if st == nil {
		return nil, errors.New("scim: a store is required")
	}
	if len(opts.Clients) == 0 {
		return nil, errors.New("scim: at least one client is required")
	}
	h := &Handler{st: st, log: opts.Logger, baseURL: strings.TrimSuffix(opts.BaseURL, "/")}
	if h.log == nil {
		h.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if h.baseURL != "" && !strings.HasPrefix(h.baseURL, "https://") && !strings.HasPrefix(h.baseURL, "http://") {
		return nil, fmt.Errorf("scim: base URL %q must start with http:// or https://", h.baseURL)
	}
	names := map[string]bool{}
	sums := map[[sha256.Size]byte]bool{}
	for i, c := range opts.Clients {
		if c.Name == "" || c.Token == "" {
			return nil, fmt.Errorf("scim: client %d needs a name and a token", i)
		}
		sum := sha256Sum(c.Token)
		if names[c.Name] || sums[sum] {
			return nil, fmt.Errorf("scim: client %q: names and tokens must be unique", c.Name)
		}
		names[c.Name], sums[sum] = true, true
		h.clients = append(h.clients, clientKey{name: c.Name, sum: sum})
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	h.metrics = m
	return h, nil
}

func sha256Sum(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// authenticate returns the name of the client whose token the request
// carries, or "" when it carries none of them. Every client's token is
// compared, so the time taken does not tell which one matched.
func (h *Handler) authenticate(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	sum := sha256Sum(strings.TrimSpace(token))
	name := ""
	for _, c := range h.clients {
		if subtle.ConstantTimeCompare(sum[:], c.sum[:]) == 1 {
			name = c.name
		}
	}
	return name
}

// request is one SCIM request being served.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	client string
	// base is the URL of the SCIM root, for meta.location.
	base string
	// status is the status written, for metrics and logs.
	status int
}

// actor is how the change log names the request's client.
func (q *request) actor() string { return "scim:" + q.client }

// ServeHTTP authenticates the request, routes it and records its metrics.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{w: w, r: r}
	rest, ok := strings.CutPrefix(r.URL.Path, MountPath)
	if !ok || (rest != "" && rest[0] != '/') {
		rest = "/\x00" // no route
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	resource := resourceLabel(segs[0])
	defer func() {
		h.metrics.observe(resource, r.Method, q.status, time.Since(start))
	}()

	if q.client = h.authenticate(r); q.client == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="warden-scim"`)
		h.fail(q, errorf(http.StatusUnauthorized, "", "a valid bearer token is required"))
		return
	}
	q.base = h.base(r)
	h.route(q, segs)
}

// route dispatches a request by path and method.
func (h *Handler) route(q *request, segs []string) {
	method := q.r.Method
	switch {
	case len(segs) == 1 && segs[0] == "Users":
		switch method {
		case http.MethodGet:
			h.listUsers(q)
		case http.MethodPost:
			h.createUser(q)
		default:
			h.notAllowed(q, "GET, POST")
		}
	case len(segs) == 2 && segs[0] == "Users":
		switch method {
		case http.MethodGet:
			h.getUser(q, segs[1])
		case http.MethodPut:
			h.replaceUser(q, segs[1])
		case http.MethodPatch:
			h.patchUser(q, segs[1])
		case http.MethodDelete:
			h.deleteUser(q, segs[1])
		default:
			h.notAllowed(q, "GET, PUT, PATCH, DELETE")
		}
	case len(segs) == 1 && segs[0] == "Groups":
		switch method {
		case http.MethodGet:
			h.listGroups(q)
		case http.MethodPost:
			h.createGroup(q)
		default:
			h.notAllowed(q, "GET, POST")
		}
	case len(segs) == 2 && segs[0] == "Groups":
		switch method {
		case http.MethodGet:
			h.getGroup(q, segs[1])
		case http.MethodPut:
			h.replaceGroup(q, segs[1])
		case http.MethodPatch:
			h.patchGroup(q, segs[1])
		case http.MethodDelete:
			h.deleteGroup(q, segs[1])
		default:
			h.notAllowed(q, "GET, PUT, PATCH, DELETE")
		}
	case len(segs) <= 2 && (segs[0] == "ServiceProviderConfig" || segs[0] == "ResourceTypes" || segs[0] == "Schemas"):
		if method != http.MethodGet {
			h.notAllowed(q, "GET")
			return
		}
		id := ""
		if len(segs) == 2 {
			id = segs[1]
		}
		h.discovery(q, segs[0], id)
	default:
		h.fail(q, errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", q.r.URL.Path))
	}
}

func (h *Handler) notAllowed(q *request, allow string) {
	q.w.Header().Set("Allow", allow)
	h.fail(q, errorf(http.StatusMethodNotAllowed, "", "method %s is not allowed here", q.r.Method))
}

// base returns the URL of the SCIM root for meta.location.
func (h *Handler) base(r *http.Request) string {
	if h.baseURL != "" {
		return h.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + MountPath
}

// resourceLabel bounds the resource label of the metrics.
func resourceLabel(seg string) string {
	switch seg {
	case "Users", "Groups", "ServiceProviderConfig", "ResourceTypes", "Schemas":
		return seg
	}
	return "other"
}
