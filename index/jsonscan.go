package index

import "bytes"

// jsonMeasure follows the structure of JSON text byte by byte, without
// decoding it, to measure the values of its object keys: it finds the
// largest value that is not itself an object (a string, number or array)
// and names it by its key, so that a record over MaxRecordBytes can be
// reported by its largest field. With stopAtTop, feed also stops after a
// ',' or ']' outside any value: the end of an item of a JSON array.
type jsonMeasure struct {
	stopAtTop bool
	off       int64 // offset of the next byte in the record
	inStr     bool
	esc       bool
	inKey     bool
	key       []byte
	stack     []jsonFrame
	best      string
	bestSize  int64
	// closed is set when feed stopped at the ']' that closes the array.
	closed bool
}

// jsonFrame is an object or array being read.
type jsonFrame struct {
	object    bool
	expectKey bool   // the next string is a key
	key       string // the key whose value is being read
	inValue   bool   // after the key's ':'
	seen      bool   // the value's first byte has been read
	isObject  bool   // the value is an object
	start     int64  // offset of the value
}

// maxKeyBytes bounds the part of a key kept to name a field.
const maxKeyBytes = 64

func (m *jsonMeasure) reset() {
	stop := m.stopAtTop
	*m = jsonMeasure{stopAtTop: stop, key: m.key[:0], stack: m.stack[:0]}
}

func (m *jsonMeasure) largest() (string, int64) { return m.best, m.bestSize }

// feed reads the start of p and returns how many bytes it read; end is
// set when, with stopAtTop, it stopped after an item's ',' or ']'.
func (m *jsonMeasure) feed(p []byte) (n int, end bool) {
	for i := 0; i < len(p); i++ {
		b := p[i]
		if m.inStr {
			switch {
			case m.esc:
				m.esc = false
			case b == '\\':
				m.esc = true
			case b == '"':
				m.inStr = false
				if m.inKey {
					m.inKey = false
					m.top().key = string(m.key)
				}
			case m.inKey:
				if len(m.key) < maxKeyBytes {
					m.key = append(m.key, b)
				}
			default:
				// Skip to the string's next quote or backslash.
				j := bytes.IndexAny(p[i:], `"\`)
				if j < 0 {
					i = len(p) - 1
				} else {
					i += j - 1
				}
			}
			continue
		}
		switch b {
		case '"':
			m.inStr = true
			if t := m.top(); t != nil && t.object && t.expectKey {
				t.expectKey = false
				m.inKey = true
				m.key = m.key[:0]
			} else {
				m.valueStarts(false)
			}
		case ':':
			if t := m.top(); t != nil && t.object {
				t.inValue, t.seen, t.isObject, t.start = true, false, false, m.off+int64(i)+1
			}
		case '{':
			m.valueStarts(true)
			m.stack = append(m.stack, jsonFrame{object: true, expectKey: true})
		case '[':
			m.valueStarts(false)
			m.stack = append(m.stack, jsonFrame{})
		case '}', ']':
			if len(m.stack) == 0 {
				if m.stopAtTop && b == ']' {
					m.closed = true
					m.off += int64(i) + 1
					return i + 1, true
				}
				continue
			}
			m.valueEnds(int64(i))
			m.stack = m.stack[:len(m.stack)-1]
		case ',':
			if len(m.stack) == 0 {
				if m.stopAtTop {
					m.off += int64(i) + 1
					return i + 1, true
				}
				continue
			}
			m.valueEnds(int64(i))
			if t := m.top(); t.object {
				t.expectKey = true
			}
		case ' ', '\t', '\r', '\n':
		default:
			m.valueStarts(false)
		}
	}
	m.off += int64(len(p))
	return len(p), false
}

func (m *jsonMeasure) top() *jsonFrame {
	if len(m.stack) == 0 {
		return nil
	}
	return &m.stack[len(m.stack)-1]
}

// valueStarts notes the first byte of a value.
func (m *jsonMeasure) valueStarts(object bool) {
	if t := m.top(); t != nil && t.object && t.inValue && !t.seen {
		t.seen, t.isObject = true, object
	}
}

// valueEnds measures the value of the innermost object's key, which ends
// before the byte at offset i of the current feed.
func (m *jsonMeasure) valueEnds(i int64) {
	t := m.top()
	if t == nil || !t.object || !t.inValue {
		return
	}
	t.inValue = false
	if size := m.off + i - t.start; !t.isObject && size > m.bestSize {
		m.best, m.bestSize = t.key, size
	}
}

// jsonlScanner splits JSON Lines into lines; it measures a line's fields
// only once the line is over MaxRecordBytes.
type jsonlScanner struct {
	m         jsonMeasure
	measuring bool
}

func (s *jsonlScanner) scan(p []byte) (int, bool) {
	n, end := len(p), false
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		n, end = i+1, true
	}
	if s.measuring {
		s.m.feed(p[:n])
	}
	return n, end
}

func (s *jsonlScanner) oversize(head, tail []byte) {
	s.measuring = true
	s.m.feed(head)
	s.m.feed(tail)
}

func (s *jsonlScanner) largest() (string, int64) { return s.m.largest() }

func (s *jsonlScanner) reset() {
	s.measuring = false
	s.m.reset()
}

// jsonItemScanner splits the items of a JSON array, read after its '['.
type jsonItemScanner struct{ m jsonMeasure }

func (s *jsonItemScanner) scan(p []byte) (int, bool) { return s.m.feed(p) }
func (s *jsonItemScanner) oversize(_, _ []byte)      {}
func (s *jsonItemScanner) largest() (string, int64)  { return s.m.largest() }
func (s *jsonItemScanner) reset() {
	closed := s.m.closed
	s.m.reset()
	s.m.stopAtTop, s.m.closed = true, closed
}
