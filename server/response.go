package server

import (
	"strconv"
	"unicode/utf8"

	"github.com/trino-warden/warden/policy/trino"
)

// The response encoders append exactly the shapes the plugin decodes,
// without reflection: {"decision_id":"…","result":…}.

func appendHead(b []byte, id string) []byte {
	b = append(b, `{"decision_id":"`...)
	b = append(b, id...)
	return append(b, `","result":`...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func appendIndices(b []byte, idx []int) []byte {
	b = append(b, '[')
	for i, n := range idx {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

func appendViewExpression(b []byte, v trino.ViewExpression) []byte {
	b = append(b, `{"expression":`...)
	b = appendString(b, v.Expression)
	if v.Identity != "" {
		b = append(b, `,"identity":`...)
		b = appendString(b, v.Identity)
	}
	return append(b, '}')
}

func appendFilters(b []byte, f []trino.ViewExpression) []byte {
	b = append(b, '[')
	for i, v := range f {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendViewExpression(b, v)
	}
	return append(b, ']')
}

func appendMasks(b []byte, m []trino.IndexedMask) []byte {
	b = append(b, '[')
	for i, v := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(v.Index), 10)
		b = append(b, `,"viewExpression":`...)
		b = appendViewExpression(b, v.ViewExpression)
		b = append(b, '}')
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
