package config

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseByteSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ByteSize
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: MiB},
		{in: "64MiB", want: 64 * MiB},
		{in: "64 mib", want: 64 * MiB},
		{in: "20MB", want: 20_000_000},
		{in: "512KiB", want: 512 * 1024},
		{in: "1GiB", want: 1 << 30},
		{in: "2TB", want: 2_000_000_000_000},
		{in: "1.5KiB", want: 1536},
		{in: "100B", want: 100},
		{in: " 7kb ", want: 7000},
		{in: "", wantErr: `invalid byte size ""`},
		{in: "MiB", wantErr: `invalid byte size "MiB"`},
		{in: "-1MiB", wantErr: `invalid byte size "-1MiB"`},
		{in: "12XB", wantErr: `invalid byte size "12XB" (want e.g. 64MiB, 20MB, 512KiB or a number of bytes)`},
		{in: "1.2.3MB", wantErr: `invalid byte size "1.2.3MB"`},
		{in: "9000000TiB", wantErr: `invalid byte size "9000000TiB": too large`},
		{in: "9e9TiB", wantErr: `invalid byte size "9e9TiB"`},
		{in: "99999999999999999999", wantErr: `invalid byte size "99999999999999999999": too large`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseByteSize(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestByteSizeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   ByteSize
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1500, "1500B"},
		{2000, "2KB"},
		{1024, "1KiB"},
		{64 * MiB, "64MiB"},
		{20 * MB, "20MB"},
		{1536 * MiB, "1536MiB"},
		{1000 * KiB, "1000KiB"},
		{3 * TiB, "3TiB"},
		{-MiB, "-1MiB"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.in.String())
		if tt.in >= 0 {
			back, err := ParseByteSize(tt.want)
			require.NoError(t, err)
			require.Equal(t, tt.in, back, "String round-trips through ParseByteSize")
		}
	}
}

func TestByteSizeText(t *testing.T) {
	t.Parallel()
	out, err := json.Marshal(map[string]ByteSize{"max": 64 * MiB})
	require.NoError(t, err)
	require.JSONEq(t, `{"max":"64MiB"}`, string(out))

	var in map[string]ByteSize
	require.NoError(t, json.Unmarshal([]byte(`{"max":"20MB"}`), &in))
	require.Equal(t, 20*MB, in["max"])
	require.Error(t, json.Unmarshal([]byte(`{"max":"lots"}`), &in))
}
