package keycloak

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/trino-warden/warden/webhooks"
)

func recorded(tb testing.TB) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob("../../testdata/webhooks/keycloak/*.json")
	require.NoError(tb, err)
	require.NotEmpty(tb, paths)
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

// TestDecodeRecorded decodes every recorded payload and checks the action
// it plans.
func TestDecodeRecorded(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"admin.USER-CREATE": syncUser, "admin.USER-UPDATE": syncUser, "admin.USER-DELETE": deleteUser,
		"admin.GROUP_MEMBERSHIP-CREATE": syncUser, "admin.GROUP_MEMBERSHIP-DELETE": syncUser,
		"admin.GROUP-CREATE": syncGroup, "admin.GROUP-UPDATE": syncGroup, "admin.GROUP-DELETE": deleteGroup,
		"access.REGISTER": syncUser, "access.UPDATE_PROFILE": syncUser, "access.DELETE_ACCOUNT": deleteUser,
		"access.LOGIN": "",
	}
	for _, b := range recorded(t) {
		ev, err := Decode(b)
		require.NoError(t, err)
		act, ok := plan(ev)
		w, known := want[ev.Type]
		require.True(t, known, ev.Type)
		require.Equal(t, w, act.kind, ev.Type)
		require.Equal(t, w != "", ok, ev.Type)
		if ok {
			require.NotEmpty(t, act.id)
		}
	}
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		path string
		want resource
		ok   bool
	}{
		{"users/u1", resource{userID: "u1"}, true},
		{"users/u1/groups/g1", resource{userID: "u1", groupID: "g1", nested: true}, true},
		{"users/u1/reset-password", resource{userID: "u1", nested: true}, true},
		{"groups/g1", resource{groupID: "g1"}, true},
		{"groups/p1/children/g2", resource{groupID: "g2"}, true},
		{"groups/p1/children", resource{groupID: "p1", nested: true}, true},
		{"clients/c1", resource{}, false},
		{"users/", resource{}, false},
		{"", resource{}, false},
	} {
		got, ok := parsePath(tt.path)
		require.Equal(t, tt.ok, ok, tt.path)
		require.Equal(t, tt.want, got, tt.path)
	}
}

func TestPlanChildWithoutIDInPath(t *testing.T) {
	t.Parallel()
	ev := &Event{Type: "admin.GROUP-CREATE", ResourceType: "GROUP", OperationType: "CREATE",
		ResourcePath: "groups/p1/children", Representation: `{"id":"g2","name":"data","path":"/eng/data"}`}
	act, ok := plan(ev)
	require.True(t, ok)
	require.Equal(t, action{syncGroup, "g2"}, act)
}

// FuzzDecode feeds arbitrary bodies to the payload decoder and the planner:
// no panic, every error a 400, and a planned action always names an ID.
func FuzzDecode(f *testing.F) {
	for _, b := range recorded(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"admin.USER-DELETE","uid":"x","time":1,"resourceType":"USER","operationType":"DELETE","resourcePath":"users//"}`))
	f.Add([]byte(`{"type":"access.DELETE_ACCOUNT","uid":"x","time":1,"authDetails":{"userId":""}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Decode(body)
		if err != nil {
			var e *webhooks.Error
			require.True(t, errors.As(err, &e))
			require.Equal(t, 400, e.Status)
			return
		}
		if act, ok := plan(ev); ok {
			require.NotEmpty(t, act.id)
			require.LessOrEqual(t, len(act.id), maxIDLength)
			require.NotContains(t, act.id, "/")
		}
	})
}

// FuzzVerifySignature checks that only the true signature passes and that
// a malformed header is a 400, a wrong one a 401.
func FuzzVerifySignature(f *testing.F) {
	body := recorded(f)[0]
	f.Add(Sign("secret", body), body)
	f.Add(strings.ToUpper(Sign("secret", body)), body)
	f.Add("", []byte("{}"))
	f.Add("zz", []byte("{}"))
	secrets := [][]byte{[]byte("secret")}
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := verifySignature(header, body, secrets)
		if err == nil {
			require.True(t, strings.EqualFold(strings.TrimSpace(header), Sign("secret", body)))
			return
		}
		var e *webhooks.Error
		require.True(t, errors.As(err, &e))
		require.Contains(t, []int{400, 401}, e.Status)
	})
}

func BenchmarkVerifySignature(b *testing.B) {
	body := recorded(b)[0]
	header := Sign("secret", body)
	for _, n := range []int{1, 2} {
		secrets := [][]byte{[]byte("secret")}
		if n == 2 {
			secrets = append([][]byte{[]byte("rotated")}, secrets...)
		}
		b.Run(map[int]string{1: "one_secret", 2: "rotation"}[n], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := verifySignature(header, body, secrets); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	body := recorded(b)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}
