package audit

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trino-warden/warden/store"
)

// The spool is a directory of segment files, one per batch that could not
// be written to PostgreSQL. A segment is written to a temporary file,
// fsync'd, renamed into place and the directory fsync'd, so a segment that
// exists is complete; a crash leaves at most a temporary file, removed at
// the next start. A segment is the magic line followed by a gzip stream of
// records: a 4-byte big-endian length, a 4-byte CRC-32C of the payload, and
// the payload, one row as JSON.

const (
	spoolMagic  = "warden-audit-spool v1\n"
	segmentExt  = ".seg"
	tempExt     = ".tmp"
	maxRowBytes = 256 << 20
)

var (
	errSpoolFull = errors.New("audit spool is full")
	crcTable     = crc32.MakeTable(crc32.Castagnoli)
)

// spool is safe for use by one worker; bytes may be read concurrently.
type spool struct {
	dir      string
	maxBytes int64
	bytes    atomic.Int64
	unlock   func()

	mu  sync.Mutex
	seq uint64
}

// openSpool opens or creates dir, takes its lock (one recorder per
// directory), removes leftover temporary files and sums the segments.
func openSpool(dir string, maxBytes int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit spool %s is in use by another Warden (each replica needs its own): %w", dir, err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, unlock: unlock}
	entries, err := os.ReadDir(dir)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case tempExt:
			_ = os.Remove(filepath.Join(dir, e.Name()))
		case segmentExt:
			if info, err := e.Info(); err == nil {
				s.bytes.Add(info.Size())
			}
		}
	}
	return s, nil
}

func (s *spool) close() {
	if s != nil && s.unlock != nil {
		s.unlock()
	}
}

// write stores rows as one segment. It returns errSpoolFull when the
// segment would take the spool over its limit.
func (s *spool) write(rows []store.AuditDecision) error {
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%020d-%08d", time.Now().UnixNano(), s.seq)
	s.mu.Unlock()
	tmp := filepath.Join(s.dir, name+tempExt)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	size, err := writeSegment(f, rows)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && s.bytes.Load()+size > s.maxBytes {
		err = errSpoolFull
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(s.dir, name+segmentExt))
	}
	if err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, errSpoolFull) {
			return err
		}
		return fmt.Errorf("audit spool: %w", err)
	}
	s.bytes.Add(size)
	return syncDir(s.dir)
}

func writeSegment(f *os.File, rows []store.AuditDecision) (int64, error) {
	bw := bufio.NewWriterSize(f, 64<<10)
	if _, err := bw.WriteString(spoolMagic); err != nil {
		return 0, err
	}
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	var hdr [8]byte
	for i := range rows {
		b, err := json.Marshal(&rows[i])
		if err != nil {
			return 0, err
		}
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(b))) //nolint:gosec // a row is far below 4 GiB.
		binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(b, crcTable))
		if _, err := zw.Write(hdr[:]); err != nil {
			return 0, err
		}
		if _, err := zw.Write(b); err != nil {
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// segments lists the segment files, oldest first.
func (s *spool) segments() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), segmentExt) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// read decodes a segment. A segment that cannot be read whole is an error.
func (s *spool) read(name string) ([]store.AuditDecision, error) {
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readSegment(f)
}

func readSegment(r io.Reader) ([]store.AuditDecision, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(spoolMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != spoolMagic {
		return nil, errors.New("not an audit spool segment")
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	var rows []store.AuditDecision
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(zr, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return rows, nil
			}
			return nil, fmt.Errorf("record %d: %w", len(rows), err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n > maxRowBytes {
			return nil, fmt.Errorf("record %d: length %d is too large", len(rows), n)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(zr, b); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(rows), err)
		}
		if crc32.Checksum(b, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
			return nil, fmt.Errorf("record %d: checksum mismatch", len(rows))
		}
		var row store.AuditDecision
		if err := json.Unmarshal(b, &row); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(rows), err)
		}
		rows = append(rows, row)
	}
}

// remove deletes a replayed segment.
func (s *spool) remove(name string) error {
	p := filepath.Join(s.dir, name)
	info, err := os.Stat(p)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return err
	}
	s.bytes.Add(-info.Size())
	return nil
}

// quarantine renames an unreadable segment aside (.bad), out of the spool.
func (s *spool) quarantine(name string) {
	p := filepath.Join(s.dir, name)
	if info, err := os.Stat(p); err == nil {
		s.bytes.Add(-info.Size())
	}
	_ = os.Rename(p, p+".bad")
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit spool: sync directory: %w", err)
	}
	return nil
}
