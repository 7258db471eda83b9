package grants

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	fga "github.com/openfga/go-sdk"
	fgaclient "github.com/openfga/go-sdk/client"
	"golang.org/x/sync/errgroup"
)

// Consistency is the consistency a request asks of OpenFGA.
type Consistency uint8

// Consistencies. Higher bypasses every cache, Warden's and OpenFGA's.
const (
	MinimizeLatency Consistency = iota
	HigherConsistency
)

// CheckItem is one relation check. The client layer sends, with each item,
// the contextual tuples that link its object to its containers
// (parentsOf): at most three, far under OpenFGA's limit of 100.
type CheckItem struct {
	User     string
	Relation string
	Object   string
}

// parentsOf derives the containment links of an object from its id:
// column:c/s/t/x → table:c/s/t → schema:c/s → catalog:c, and
// routine:c/s/f → schema:c/s → catalog:c.
func parentsOf(object string) []Tuple {
	typ, id, _ := strings.Cut(object, ":")
	parts := strings.Split(id, "/")
	var out []Tuple
	link := func(child, rel, parent string) { out = append(out, Tuple{Object: child, Relation: rel, User: parent}) }
	switch {
	case typ == TypeColumn && len(parts) == 4:
		link(object, "table", TypeTable+":"+strings.Join(parts[:3], "/"))
		fallthrough
	case typ == TypeTable && len(parts) >= 3, typ == TypeRoutine && len(parts) == 3:
		child := object
		if typ == TypeColumn {
			child = TypeTable + ":" + strings.Join(parts[:3], "/")
		}
		link(child, "schema", TypeSchema+":"+parts[0]+"/"+parts[1])
		fallthrough
	case typ == TypeSchema && len(parts) >= 2:
		link(TypeSchema+":"+parts[0]+"/"+parts[1], "catalog", TypeCatalog+":"+parts[0])
	}
	return out
}

// ListRequest asks for every object of Type on which User has Relation.
type ListRequest struct {
	User     string
	Relation string
	Type     string
}

// RelationChecker is how Warden asks OpenFGA. Implementations are stacked as
// decorators: cache → singleflight → client.
//
// Check returns one answer per item, index-aligned; any error (OpenFGA
// unreachable, a timeout, an item OpenFGA could not decide) fails the whole
// call, and the caller fails closed. ListObjects returns the complete list or
// an error: ErrTruncated when OpenFGA may have cut the answer short.
type RelationChecker interface {
	Check(ctx context.Context, items []CheckItem, c Consistency) ([]bool, error)
	ListObjects(ctx context.Context, req ListRequest, c Consistency) ([]string, error)
}

// Errors of the client layer.
var (
	// ErrTruncated means a list answer may be incomplete (OpenFGA's deadline
	// could have cut it); it is never used as a partial allow.
	ErrTruncated = errors.New("openfga list answer may be truncated")
	// ErrUnavailable wraps every failure to reach OpenFGA or get an answer.
	ErrUnavailable = errors.New("openfga unavailable")
)

// maxChecksPerBatch is OpenFGA's default --max-checks-per-batch-check.
const maxChecksPerBatch = 50

// clientChecker is the innermost RelationChecker: the go-sdk client.
type clientChecker struct {
	c       *fgaclient.OpenFgaClient
	timeout time.Duration
	// listBudget is how long a list may take; it is kept below the server's
	// listObjects deadline, so a stream the server would have cut short at
	// its deadline has already failed on this side (ErrTruncated).
	listBudget time.Duration
	batchSize  int
	metrics    *metrics
	nowFunc    func() time.Time
}

func (cc *clientChecker) context() *map[string]any {
	m := map[string]any{"current_time": cc.nowFunc().UTC().Format(time.RFC3339Nano)}
	return &m
}

func consistency(c Consistency) *fga.ConsistencyPreference {
	p := fga.CONSISTENCYPREFERENCE_MINIMIZE_LATENCY
	if c == HigherConsistency {
		p = fga.CONSISTENCYPREFERENCE_HIGHER_CONSISTENCY
	}
	return &p
}

func contextual(ts []Tuple) []fgaclient.ClientContextualTupleKey {
	if len(ts) == 0 {
		return nil
	}
	out := make([]fgaclient.ClientContextualTupleKey, len(ts))
	for i, t := range ts {
		out[i] = fgaclient.ClientContextualTupleKey{User: t.User, Relation: t.Relation, Object: t.Object}
	}
	return out
}

func (cc *clientChecker) Check(ctx context.Context, items []CheckItem, c Consistency) ([]bool, error) {
	out := make([]bool, len(items))
	if len(items) <= cc.batchSize {
		if err := cc.batch(ctx, items, out, c); err != nil {
			cc.metrics.unavailable.WithLabelValues("check").Inc()
			return nil, fmt.Errorf("%w: check: %w", ErrUnavailable, err)
		}
		return out, nil
	}
	// Several server batches run concurrently, results index-aligned.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for start := 0; start < len(items); start += cc.batchSize {
		end := min(start+cc.batchSize, len(items))
		g.Go(func() error { return cc.batch(gctx, items[start:end], out[start:end], c) })
	}
	if err := g.Wait(); err != nil {
		cc.metrics.unavailable.WithLabelValues("check").Inc()
		return nil, fmt.Errorf("%w: check: %w", ErrUnavailable, err)
	}
	return out, nil
}

func (cc *clientChecker) batch(ctx context.Context, items []CheckItem, out []bool, c Consistency) error {
	ctx, cancel := context.WithTimeout(ctx, cc.timeout)
	defer cancel()
	reqCtx := cc.context()
	checks := make([]fgaclient.ClientBatchCheckItem, len(items))
	for i, it := range items {
		checks[i] = fgaclient.ClientBatchCheckItem{
			User: it.User, Relation: it.Relation, Object: it.Object,
			CorrelationId:    strconv.Itoa(i),
			ContextualTuples: contextual(parentsOf(it.Object)),
			Context:          reqCtx,
		}
	}
	one := int32(1)
	resp, err := cc.c.BatchCheck(ctx).
		Body(fgaclient.ClientBatchCheckRequest{Checks: checks}).
		Options(fgaclient.BatchCheckOptions{Consistency: consistency(c), MaxParallelRequests: &one}).
		Execute()
	if err != nil {
		return err
	}
	res := resp.GetResult()
	for i := range items {
		r, ok := res[strconv.Itoa(i)]
		if !ok {
			return fmt.Errorf("no answer for %s#%s@%s", items[i].Object, items[i].Relation, items[i].User)
		}
		if r.Error != nil {
			return fmt.Errorf("%s#%s@%s: %s", items[i].Object, items[i].Relation, items[i].User, r.Error.GetMessage())
		}
		out[i] = r.GetAllowed()
	}
	return nil
}

func (cc *clientChecker) ListObjects(ctx context.Context, req ListRequest, c Consistency) ([]string, error) {
	objs, err := cc.list(ctx, req, c)
	if err != nil {
		cc.metrics.unavailable.WithLabelValues("list").Inc()
		return nil, fmt.Errorf("%w: list %s#%s@%s: %w", ErrUnavailable, req.Type, req.Relation, req.User, err)
	}
	return objs, nil
}

func (cc *clientChecker) list(ctx context.Context, req ListRequest, c Consistency) ([]string, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cc.listBudget)
	defer cancel()
	resp, err := cc.c.StreamedListObjects(ctx).
		Body(fgaclient.ClientStreamedListObjectsRequest{User: req.User, Relation: req.Relation, Type: req.Type, Context: cc.context()}).
		Options(fgaclient.ClientStreamedListObjectsOptions{Consistency: consistency(c)}).
		Execute()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrTruncated, err)
		}
		return nil, err
	}
	defer resp.Close()
	var objs []string
	objects, errs := resp.Objects, resp.Errors
	for objects != nil || errs != nil {
		select {
		case o, ok := <-objects:
			if !ok {
				objects = nil
				continue
			}
			objs = append(objs, o.Object)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("%w: %w", ErrTruncated, err)
				}
				return nil, err
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrTruncated, ctx.Err())
		}
	}
	// The server ends a stream silently at its deadline. The budget is below
	// that deadline, so a complete answer arrives well within it; one that
	// took the whole budget is not trusted.
	if ctx.Err() != nil || time.Since(start) >= cc.listBudget {
		return nil, fmt.Errorf("%w: took %v of a %v budget", ErrTruncated, time.Since(start), cc.listBudget)
	}
	return objs, nil
}
