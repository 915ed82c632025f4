package index

import (
	"bufio"
	"bytes"
	"io"
)

// A recordScanner finds where the records of one format end, byte by byte,
// and measures their fields so that a record over MaxRecordBytes can be
// reported by its largest field.
type recordScanner interface {
	// scan reads the start of p, which continues the current record, and
	// returns how many bytes of p belong to it and whether the record ends
	// with them (the terminator, if any, is the last byte counted).
	scan(p []byte) (n int, end bool)
	// oversize is called once when the current record has passed
	// MaxRecordBytes, with every byte of it scanned so far (head, then
	// tail); scan sees the rest.
	oversize(head, tail []byte)
	// largest names the largest field of the current record and its size.
	largest() (field string, size int64)
	// reset prepares for the next record.
	reset()
}

// recordSplitter reads records from a file with a recordScanner, keeping
// at most MaxRecordBytes of one in memory: a longer record is read to its
// end without being kept and reported as too large, and reading goes on
// with the next record.
type recordSplitter struct {
	br    *bufio.Reader
	sc    recordScanner
	space string // bytes skipped between records
	line  int    // the line of the next byte read
	err   error  // a read error other than io.EOF
}

func newRecordSplitter(r io.Reader, sc recordScanner, space string) *recordSplitter {
	return &recordSplitter{br: bufio.NewReaderSize(r, 64<<10), sc: sc, space: space, line: 1}
}

// splitRecord is one record read by a recordSplitter. When the record was
// over MaxRecordBytes, data is nil and tooLarge holds the problem.
type splitRecord struct {
	data     []byte
	line     int // the line the record starts on
	tooLarge string
}

// next returns the next record; ok is false at the end of the input (or
// on a read error, in s.err). The data of a record is valid until the next
// call.
func (s *recordSplitter) next(buf []byte) (rec splitRecord, ok bool) {
	if !s.skipSpace() {
		return rec, false
	}
	rec.line = s.line
	s.sc.reset()
	data := buf[:0]
	var size int64
	over := false
	for {
		p, err := s.peek()
		if len(p) == 0 {
			if err != nil && err != io.EOF {
				s.err = err
				return rec, false
			}
			break // the last record has no terminator
		}
		n, end := s.sc.scan(p)
		s.line += bytes.Count(p[:n], []byte{'\n'})
		size += int64(n)
		if !over {
			if size > MaxRecordBytes {
				over = true
				s.sc.oversize(data, p[:n])
				data = nil
			} else {
				data = appendDoubling(data, p[:n])
			}
		}
		s.br.Discard(n)
		if end {
			break
		}
	}
	if over {
		field, fsize := s.sc.largest()
		rec.tooLarge = recordTooLarge(size, field, fsize)
		return rec, true
	}
	rec.data = data
	return rec, true
}

// skipSpace skips the bytes of s.space before a record, reporting false at
// the end of the input.
func (s *recordSplitter) skipSpace() bool {
	for {
		b, err := s.br.ReadByte()
		if err != nil {
			if err != io.EOF {
				s.err = err
			}
			return false
		}
		if bytes.IndexByte([]byte(s.space), b) < 0 {
			s.br.UnreadByte()
			return true
		}
		if b == '\n' {
			s.line++
		}
	}
}

// peek returns the bytes buffered, filling the buffer when it is empty.
func (s *recordSplitter) peek() ([]byte, error) {
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return nil, err
		}
	}
	return s.br.Peek(s.br.Buffered())
}

// appendDoubling is append, but growing the slice to twice its size (as
// append does only for small slices) and no further than MaxRecordBytes
// when that is enough, so that reading a record of n bytes allocates at
// most about 3n bytes, not 5n.
func appendDoubling(data, p []byte) []byte {
	if need := len(data) + len(p); need > cap(data) {
		grown := make([]byte, len(data), max(need, min(2*cap(data), MaxRecordBytes), 4<<10))
		copy(grown, data)
		data = grown
	}
	return append(data, p...)
}

// hand passes one parsed record to h: its warnings, then its rejection
// (bad) or the incident. Only h.Record's error stops the reading.
func hand(h Handler, name string, line int, in Incident, warns []string, bad error) error {
	for _, w := range warns {
		h.Problem(Problem{File: name, Line: line, Msg: w, Warning: true})
	}
	if bad != nil {
		h.Problem(Problem{File: name, Line: line, Msg: bad.Error()})
		return nil
	}
	return h.Record(Record{Incident: in, File: name, Line: line})
}
