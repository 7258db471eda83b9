// Package keycloak serves POST /webhooks/keycloak: the webhooks of the
// keycloak-events extension (github.com/p2-inc/keycloak-events), which keep
// the store's directory in step with a Keycloak realm.
//
// A delivery is verified first (X-Keycloak-Signature, the hex HMAC-SHA256 of
// the body under the webhook's secret). The handler then syncs state rather
// than replaying deltas: for any event about a user (an admin USER or
// GROUP_MEMBERSHIP event, or a user event such as access.REGISTER or
// access.UPDATE_PROFILE) it reads the user and their groups from Keycloak's
// admin REST API and writes that state; for a GROUP event it reads the
// group. Deletions need no read. Keycloak user IDs become the users'
// external IDs, group IDs the groups' external IDs, and a group's name is
// its Keycloak path without the leading "/" ("eng/data").
//
// Each event is applied with webhooks.Deliver in one store transaction that
// records its uid, so a redelivery is a no-op. Its time orders the events
// about one subject (a Keycloak user, or a group): an event older than the
// last one applied to its subject is acknowledged as stale. Since an applied
// event writes the state read after it happened, skipping an older one
// loses nothing.
package keycloak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trino-warden/warden/store"
	"github.com/trino-warden/warden/webhooks"
)

// MountPath is the path the server routes to the handler.
const MountPath = "/webhooks/keycloak"

// Source names this endpoint's deliveries in the store.
const Source = "keycloak"

// Actor is who the change log names for the changes of this endpoint.
const Actor = "webhook:keycloak"

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxEventAge  = 24 * time.Hour
)

// Options configure a Handler.
type Options struct {
	// Secrets are the webhook secrets accepted (the "secret" of the
	// extension's webhook entity, or WEBHOOK_SECRET); list two while
	// rotating. At least one is required.
	Secrets []string
	// BaseURL is Keycloak's root URL, e.g. "https://keycloak.example.com".
	BaseURL string
	// Realm is the realm whose events this endpoint takes.
	Realm string
	// RealmID is the realm's internal ID, when it differs from its name:
	// user events may carry it instead of the name.
	RealmID string
	// ClientID and ClientSecret are a confidential client of Realm with a
	// service account that has the realm-management role view-users; the
	// handler reads users and groups with it.
	ClientID     string
	ClientSecret string
	// HTTPClient calls the admin API (default: a client with a 10 s
	// timeout).
	HTTPClient *http.Client
	// MaxBodyBytes bounds a delivery (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// MaxEventAge refuses events that happened longer ago, since the
	// extension's signature does not cover a timestamp: a captured delivery
	// cannot be replayed after it (default DefaultMaxEventAge). Keep the
	// webhook_events retention longer.
	MaxEventAge time.Duration
	// Logger receives the handler's logs; nil discards them.
	Logger *slog.Logger
	// Registerer, when set, receives the metrics.
	Registerer prometheus.Registerer
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
}

// Handler serves POST /webhooks/keycloak. It is safe for concurrent use.
type Handler struct {
	st      store.Transactor
	admin   *AdminClient
	secrets [][]byte
	opts    Options
	log     *slog.Logger
	metrics *webhooks.Metrics
}

// NewHandler returns a Handler that applies Keycloak's events to st. It
// returns an error when st is nil, there is no secret, the admin API
// settings are incomplete, a limit is negative, or the metrics cannot be
// registered.
func NewHandler(st store.Transactor, opts Options) (*Handler, error) {
	if st == nil {
		return nil, errors.New("keycloak webhook: a store is required")
	}
	if len(opts.Secrets) == 0 {
		return nil, errors.New("keycloak webhook: at least one secret is required")
	}
	secrets := make([][]byte, 0, len(opts.Secrets))
	for i, s := range opts.Secrets {
		if s == "" {
			return nil, fmt.Errorf("keycloak webhook: secret %d is empty", i+1)
		}
		secrets = append(secrets, []byte(s))
	}
	if opts.MaxBodyBytes < 0 || opts.MaxEventAge < 0 {
		return nil, errors.New("keycloak webhook: limits must not be negative")
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxEventAge == 0 {
		opts.MaxEventAge = DefaultMaxEventAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	admin, err := NewAdminClient(opts.BaseURL, opts.Realm, opts.ClientID, opts.ClientSecret, opts.HTTPClient, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("keycloak webhook: %w", err)
	}
	m, err := webhooks.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Handler{st: st, admin: admin, secrets: secrets, opts: opts, log: webhooks.DiscardLogger(opts.Logger), metrics: m}, nil
}

// ServeHTTP verifies and applies one delivery. It answers 200 with a
// webhooks.Result (status applied, duplicate, stale or ignored); 400 for a
// missing or garbled signature or a malformed payload; 401 for a signature
// that does not match; 422 for an event of another realm or older than
// MaxEventAge; 409 when a Keycloak user's name belongs to another user;
// 503 when the store or Keycloak's admin API is unavailable; 500
// otherwise. Nothing is written unless the answer is 200.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.opts.Now()
	res, eventID, err := h.serve(w, r)
	var e *webhooks.Error
	if err != nil {
		e = webhooks.WriteError(w, h.log, r, eventID, err)
	} else {
		h.log.InfoContext(r.Context(), "webhook event", "source", Source, "event_id", res.EventID,
			"subject", res.Subject, "status", res.Status, "revision", res.Revision)
		webhooks.WriteResult(w, res)
	}
	h.metrics.Observe(MountPath, webhooks.OutcomeOf(res.Status, e), h.opts.Now().Sub(start))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (webhooks.Result, string, error) {
	body, err := webhooks.ReadBody(w, r, h.opts.MaxBodyBytes)
	if err != nil {
		return webhooks.Result{}, "", err
	}
	if err := verifySignature(r.Header.Get(SignatureHeader), body, h.secrets); err != nil {
		return webhooks.Result{}, "", err
	}
	ev, err := Decode(body)
	if err != nil {
		return webhooks.Result{}, "", err
	}
	if err := h.check(ev); err != nil {
		return webhooks.Result{}, ev.Key(), err
	}
	act, ok := plan(ev)
	if !ok {
		return webhooks.Result{Status: webhooks.StatusIgnored, EventID: ev.Key(), Note: "Warden does not act on " + truncate(ev.Type)}, ev.Key(), nil
	}
	res, err := h.run(r.Context(), ev, act)
	if errors.Is(err, ErrAdminAPI) {
		err = &webhooks.Error{Status: http.StatusServiceUnavailable, Code: webhooks.CodeUnavailable,
			Message: "Keycloak's admin API is unavailable; retry later", Err: err}
	}
	return res, ev.Key(), err
}

// check refuses an event of another realm or too old to be fresh.
func (h *Handler) check(ev *Event) error {
	realm := ev.RealmID
	if !ev.Admin() && ev.AuthDetails.RealmID != "" {
		realm = ev.AuthDetails.RealmID
	}
	if realm != h.opts.Realm && (h.opts.RealmID == "" || ev.RealmID != h.opts.RealmID) && ev.RealmID != h.opts.Realm {
		return webhooks.Unprocessable("the event is from realm %q; this endpoint serves realm %q", truncate(realm), h.opts.Realm)
	}
	if age := h.opts.Now().Sub(ev.OccurredAt()); age > h.opts.MaxEventAge {
		return webhooks.Unprocessable("the event happened %s ago, more than the %s accepted", age.Truncate(time.Second), h.opts.MaxEventAge)
	}
	return nil
}

// action is what an event asks the handler to do.
type action struct {
	kind string // syncUser, deleteUser, syncGroup, deleteGroup
	id   string // the Keycloak user or group ID
}

const (
	syncUser    = "sync-user"
	deleteUser  = "delete-user"
	syncGroup   = "sync-group"
	deleteGroup = "delete-group"
)

// userEventsSynced are the user events after which a user's state is read
// again.
var userEventsSynced = map[string]bool{
	"REGISTER": true, "UPDATE_PROFILE": true, "UPDATE_EMAIL": true, "VERIFY_EMAIL": true,
	"IDENTITY_PROVIDER_FIRST_LOGIN": true, "IDENTITY_PROVIDER_LINK_ACCOUNT": true,
}

// plan decides what an event asks for; ok is false for an event Warden does
// not act on (a login, a failed operation, a client or role change, …).
func plan(ev *Event) (action, bool) {
	if ev.Error != "" {
		return action{}, false
	}
	if !ev.Admin() {
		t, id := ev.UserType(), ev.AuthDetails.UserID
		switch {
		case id == "" || len(id) > maxIDLength:
			return action{}, false
		case t == "DELETE_ACCOUNT":
			return action{deleteUser, id}, true
		case userEventsSynced[t]:
			return action{syncUser, id}, true
		}
		return action{}, false
	}
	res, ok := parsePath(ev.ResourcePath)
	if !ok {
		return action{}, false
	}
	op := ev.OperationType
	switch ev.ResourceType {
	case "USER":
		switch {
		case res.userID == "":
		case op == "DELETE" && !res.nested:
			return action{deleteUser, res.userID}, true
		case op == "CREATE" || op == "UPDATE" || op == "DELETE":
			// A change below the user (a federated identity, a credential)
			// may change what Warden keeps: read the user again.
			return action{syncUser, res.userID}, true
		}
	case "GROUP_MEMBERSHIP":
		if res.userID != "" && (op == "CREATE" || op == "DELETE") {
			return action{syncUser, res.userID}, true
		}
	case "GROUP":
		if res.nested {
			// "groups/<parent>/children": the subgroup is the representation.
			if id := ev.representationID(); id != "" {
				res.groupID = id
			}
		}
		switch {
		case res.groupID == "":
		case op == "DELETE":
			return action{deleteGroup, res.groupID}, true
		case op == "CREATE" || op == "UPDATE":
			return action{syncGroup, res.groupID}, true
		}
	}
	return action{}, false
}

// run reads what the action needs from Keycloak, then applies it in one
// delivery transaction.
func (h *Handler) run(ctx context.Context, ev *Event, act action) (webhooks.Result, error) {
	var (
		subject string
		apply   webhooks.ApplyFunc
	)
	switch act.kind {
	case syncUser, deleteUser:
		subject = "user:" + act.id
		state, err := h.readUser(ctx, act)
		if err != nil {
			return webhooks.Result{}, err
		}
		apply = func(ctx context.Context, tx *store.Tx) (string, error) { return applyUser(ctx, tx, act.id, state) }
	default:
		subject = "group:" + act.id
		var (
			g    *Group
			gone = act.kind == deleteGroup
		)
		if !gone {
			got, err := h.admin.Group(ctx, act.id)
			switch {
			case errors.Is(err, ErrGone):
				gone = true
			case err != nil:
				return webhooks.Result{}, err
			default:
				g = &got
			}
		}
		apply = func(ctx context.Context, tx *store.Tx) (string, error) { return applyGroup(ctx, tx, act.id, g) }
	}
	d := store.WebhookDelivery{Source: Source, EventID: ev.Key(), Type: ev.Type, Subject: subject, OccurredAt: ev.OccurredAt()}
	return webhooks.Deliver(ctx, h.st, d, apply)
}

// userState is a Keycloak user and their groups; nil means the user is gone.
type userState struct {
	user   User
	groups []Group
	// ancestors are the parents, grandparents, … of the subgroups in
	// groups, so that the store has the whole path of each and a rename or
	// deletion of an ancestor reaches its subgroups.
	ancestors []Group
}

// maxGroupDepth bounds the walk up a group's ancestors.
const maxGroupDepth = 32

func (h *Handler) readUser(ctx context.Context, act action) (*userState, error) {
	if act.kind == deleteUser {
		return nil, nil
	}
	u, err := h.admin.User(ctx, act.id)
	if errors.Is(err, ErrGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	groups, err := h.admin.UserGroups(ctx, act.id)
	if errors.Is(err, ErrGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := &userState{user: u, groups: groups}
	seen := make(map[string]bool, len(groups))
	for _, g := range groups {
		seen[g.ID] = true
	}
	for _, g := range groups {
		for depth, parent := 0, g.ParentID; parent != "" && !seen[parent] && depth < maxGroupDepth; depth++ {
			seen[parent] = true
			pg, err := h.admin.Group(ctx, parent)
			if errors.Is(err, ErrGone) {
				break
			}
			if err != nil {
				return nil, err
			}
			st.ancestors = append(st.ancestors, pg)
			parent = pg.ParentID
		}
	}
	return st, nil
}
