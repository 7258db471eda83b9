package audit

import (
	"bufio"
	"bytes"
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

	"github.com/trino-warden/warden/policy/trino"
	"github.com/trino-warden/warden/store"
)

// The spool is a directory of segment files, one per batch that could not
// be written to PostgreSQL. A segment is written to a temporary file,
// fsync'd, renamed into place and the directory fsync'd, so a segment that
// exists is complete; a crash leaves at most a temporary file, removed at
// the next start.
//
// A segment is the magic line, then the number of rows and a CRC-32C of
// the rows (4 bytes each, big-endian), then the rows exactly as the batch
// encoded them for PostgreSQL's binary COPY: spooling costs no encoding,
// and a replay streams the segment to PostgreSQL as it is. Segments of the
// first format (v1: a gzip stream of JSON rows, each with its length and
// CRC) are still read.

const (
	spoolMagic   = "warden-audit-spool v2\n"
	spoolMagicV1 = "warden-audit-spool v1\n"
	segmentExt   = ".seg"
	tempExt      = ".tmp"
	maxRowBytes  = 256 << 20
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

// write stores a batch as one segment. It returns errSpoolFull when the
// segment would take the spool over its limit.
func (s *spool) write(p *pending) error {
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%020d-%08d", time.Now().UnixNano(), s.seq)
	s.mu.Unlock()
	tmp := filepath.Join(s.dir, name+tempExt)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("audit spool: %w", err)
	}
	size, err := writeSegment(f, &p.batch)
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

func writeSegment(f *os.File, b *store.AuditBatch) (int64, error) {
	data := b.Bytes()
	head := make([]byte, 0, len(spoolMagic)+8)
	head = append(head, spoolMagic...)
	head = binary.BigEndian.AppendUint32(head, uint32(b.Len()))                //nolint:gosec // a batch is far below 4G rows.
	head = binary.BigEndian.AppendUint32(head, crc32.Checksum(data, crcTable)) //nolint:gosec // the checksum's own bits.
	if _, err := f.Write(head); err != nil {
		return 0, err
	}
	if _, err := f.Write(data); err != nil {
		return 0, err
	}
	return int64(len(head) + len(data)), nil
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
func (s *spool) read(name string) (*pending, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return nil, err
	}
	return readSegment(data)
}

// readSegment decodes a segment of either format.
func readSegment(data []byte) (*pending, error) {
	if bytes.HasPrefix(data, []byte(spoolMagicV1)) {
		rows, err := readSegmentV1(bytes.NewReader(data[len(spoolMagicV1):]))
		if err != nil {
			return nil, err
		}
		p := &pending{}
		for i := range rows {
			p.batch.AddDecision(&rows[i])
			p.ops = append(p.ops, trino.ParseOperation(rows[i].Operation))
		}
		return p, nil
	}
	if !bytes.HasPrefix(data, []byte(spoolMagic)) || len(data) < len(spoolMagic)+8 {
		return nil, errors.New("not an audit spool segment")
	}
	head := data[len(spoolMagic):]
	n := binary.BigEndian.Uint32(head)
	sum := binary.BigEndian.Uint32(head[4:])
	rows := head[8:]
	if crc32.Checksum(rows, crcTable) != sum {
		return nil, errors.New("checksum mismatch")
	}
	if int64(n) > int64(len(rows)) {
		return nil, fmt.Errorf("%d rows cannot fit in %d bytes", n, len(rows))
	}
	b, err := store.AuditBatchOf(rows, int(n))
	if err != nil {
		return nil, err
	}
	ops, err := b.Operations()
	if err != nil {
		return nil, err
	}
	p := &pending{batch: *b, ops: make([]trino.Operation, len(ops))}
	for i, op := range ops {
		p.ops[i] = trino.ParseOperation(op)
	}
	return p, nil
}

// readSegmentV1 reads the records of a v1 segment, after its magic line: a
// gzip stream of records, each a 4-byte big-endian length, a 4-byte
// CRC-32C of the payload, and the payload, one row as JSON.
func readSegmentV1(r io.Reader) ([]store.AuditDecision, error) {
	zr, err := gzip.NewReader(bufio.NewReader(r))
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
