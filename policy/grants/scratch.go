package grants

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	fga "github.com/openfga/go-sdk"
	fgaclient "github.com/openfga/go-sdk/client"
	"github.com/openfga/go-sdk/credentials"
)

// Scratch copies the live store (its model and every tuple) into a new,
// temporary OpenFGA store, applies writes and deletes to the copy, and
// returns a Source that reads it. The live store is only read. Close the
// returned source, then call cleanup, which deletes the copy.
//
// OpenFGA's contextual tuples can add relations to a check but cannot take
// any away, so a candidate that removes grants needs a copy. The copy is
// as of the moment it was read: writes to the live store after that are
// not in it.
func (s *Source) Scratch(ctx context.Context, writes, deletes []Tuple) (*Source, func(), error) {
	mresp, err := s.client.ReadAuthorizationModel(ctx).Execute()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: read the live model: %w", ErrUnavailable, err)
	}
	m := mresp.GetAuthorizationModel()
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "warden-scratch-" + time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(suffix[:])
	cfg := &fgaclient.ClientConfiguration{ApiUrl: s.opts.APIURL}
	if s.opts.APIToken != "" {
		cfg.Credentials = &credentials.Credentials{Method: credentials.CredentialsMethodApiToken,
			Config: &credentials.Config{ApiToken: s.opts.APIToken}}
	}
	c, err := fgaclient.NewSdkClient(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("openfga client: %w", err)
	}
	st, err := c.CreateStore(ctx).Body(fgaclient.ClientCreateStoreRequest{Name: name}).Execute()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: create a scratch store: %w", ErrUnavailable, err)
	}
	storeID := st.GetId()
	cleanup := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.RequestTimeout)
		defer cancel()
		if _, err := c.DeleteStore(dctx).Options(fgaclient.ClientDeleteStoreOptions{StoreId: &storeID}).Execute(); err != nil {
			s.opts.Logger.Warn("deleting an OpenFGA scratch store failed; delete it by hand", "store", storeID, "name", name, "error", err)
		}
	}
	fail := func(err error) (*Source, func(), error) { cleanup(); return nil, nil, err }
	if err := c.SetStoreId(storeID); err != nil {
		return fail(err)
	}
	w, err := c.WriteAuthorizationModel(ctx).Body(fga.WriteAuthorizationModelRequest{
		TypeDefinitions: m.GetTypeDefinitions(), SchemaVersion: m.GetSchemaVersion(), Conditions: m.Conditions,
	}).Execute()
	if err != nil {
		return fail(fmt.Errorf("%w: copy the model: %w", ErrUnavailable, err))
	}
	modelID := w.GetAuthorizationModelId()
	if err := c.SetAuthorizationModelId(modelID); err != nil {
		return fail(err)
	}
	if err := s.copyTuples(ctx, c); err != nil {
		return fail(err)
	}
	opts := s.opts
	opts.APIURL, opts.StoreID, opts.ModelID = s.opts.APIURL, storeID, modelID
	opts.ChangesInterval, opts.Registerer, opts.WrapCheckerFunc = -1, nil, nil
	src, err := New(ctx, opts)
	if err != nil {
		return fail(err)
	}
	if err := src.WriteTuples(ctx, writes, deletes); err != nil {
		src.Close()
		return fail(err)
	}
	return src, cleanup, nil
}

// copyTuples reads every tuple of the live store and writes it to dst, in
// chunks of maxTuplesPerWrite.
func (s *Source) copyTuples(ctx context.Context, dst *fgaclient.OpenFgaClient) error {
	var token string
	size := int32(100)
	for {
		opts := fgaclient.ClientReadOptions{PageSize: &size}
		if token != "" {
			t := token
			opts.ContinuationToken = &t
		}
		rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		resp, err := s.client.Read(rctx).Body(fgaclient.ClientReadRequest{}).Options(opts).Execute()
		cancel()
		if err != nil {
			return fmt.Errorf("%w: read the live tuples: %w", ErrUnavailable, err)
		}
		var body fgaclient.ClientWriteRequest
		for _, t := range resp.GetTuples() {
			k := t.GetKey()
			body.Writes = append(body.Writes, fgaclient.ClientTupleKey{User: k.GetUser(), Relation: k.GetRelation(), Object: k.GetObject(), Condition: k.Condition})
		}
		if len(body.Writes) > 0 {
			wctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
			_, err := dst.Write(wctx).Body(body).Options(fgaclient.ClientWriteOptions{Conflict: fgaclient.ClientWriteConflictOptions{
				OnDuplicateWrites: fgaclient.CLIENT_WRITE_REQUEST_ON_DUPLICATE_WRITES_IGNORE}}).Execute()
			cancel()
			if err != nil {
				return fmt.Errorf("%w: copy tuples: %w", ErrUnavailable, err)
			}
		}
		token = resp.GetContinuationToken()
		if token == "" {
			return nil
		}
	}
}
