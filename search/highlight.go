package search

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// Highlighting is done on the stored text with the index's own analyzer, so
// that what is marked is exactly what matched (stemmed, case-folded). All
// text is escaped; <mark> and </mark> are the only markup produced, and this
// file is the only place that produces them.

const (
	fragmentBytes    = 220 // target length of one fragment
	fragmentLead     = 60  // context kept before the first match
	fragmentsByField = 2
)

// matcher is the terms of one query clause and the fields it applies to.
type matcher struct {
	field  string          // the one field it applies to, if not ""
	fields map[string]bool // nil: every field (when field is "")
	terms  map[string]bool
	prefix string
}

type highlightTerms []matcher

func (e *Engine) highlightTerms(pq *parsedQuery) highlightTerms {
	var hs highlightTerms
	for _, g := range pq.groups {
		for _, c := range g {
			m := matcher{terms: map[string]bool{}}
			if c.fields != nil {
				m.fields = map[string]bool{}
				for _, f := range c.fields {
					m.fields[f] = true
				}
			}
			if c.prefix {
				m.prefix = index.Fold(c.text)
			} else {
				for _, t := range e.analyze(c.text) {
					m.terms[t] = true
				}
				if len(m.terms) == 0 {
					continue
				}
			}
			hs = append(hs, m)
		}
	}
	return hs
}

// forField returns the matchers that apply to a field.
func (hs highlightTerms) forField(field string) highlightTerms {
	var out highlightTerms
	for _, m := range hs {
		if m.field == field || (m.field == "" && (m.fields == nil || m.fields[field])) {
			out = append(out, m)
		}
	}
	return out
}

func (hs highlightTerms) match(term string) bool {
	for _, m := range hs {
		if m.terms[term] || (m.prefix != "" && strings.HasPrefix(term, m.prefix)) {
			return true
		}
	}
	return false
}

// mayMatch is a cheap test that text could hold a match, to skip analysing
// fields that cannot: the Porter stemmer changes at most the last letter of
// the word it keeps ("day" -> "dai", "hoping" -> "hope"), so the stem
// without its last letter must occur in the folded text. Short stems are no
// exception.
func (hs highlightTerms) mayMatch(lower string) bool {
	for _, m := range hs {
		if m.prefix != "" && strings.Contains(lower, m.prefix) {
			return true
		}
		for t := range m.terms {
			probe := t
			if len(probe) > 1 {
				probe = probe[:len(probe)-1]
			}
			if strings.Contains(lower, probe) {
				return true
			}
		}
	}
	return false
}

type span struct{ start, end int }

// spans returns the byte ranges of text whose terms match.
//
// Only the words that may match are analysed: the text is cut into pieces at
// ASCII whitespace followed by an ASCII byte (word segmentation never joins
// words across whitespace, so each piece analyses to exactly the tokens the
// whole text has there), and a piece is analysed only when its folded form
// holds a probe, by the reasoning mayMatch applies to the whole text. Most
// of a long field is then skipped without being tokenized or stemmed.
func (e *Engine) spans(text string, hs highlightTerms) []span {
	return e.spansBuf(text, hs, &scratch{}, false)
}

// scratch is space that the spans of one incident's fields share: a buffer
// for folding pieces of text and the tokens of the pieces analysed so far (a
// piece analyses to the same tokens wherever it occurs).
type scratch struct {
	buf    []byte
	pieces map[string][]pieceToken
}

// pieceToken is a token of a piece: its term and its byte range in the
// piece.
type pieceToken struct {
	term       string
	start, end int
}

// tokens returns the tokens of piece.
func (e *Engine) tokens(piece string, sc *scratch) []pieceToken {
	if toks, ok := sc.pieces[piece]; ok {
		return toks
	}
	var toks []pieceToken
	for _, t := range e.analyzer.Analyze([]byte(piece)) {
		if t.Start >= 0 && t.End <= len(piece) && t.Start < t.End {
			toks = append(toks, pieceToken{string(t.Term), t.Start, t.End})
		}
	}
	if sc.pieces == nil {
		sc.pieces = map[string][]pieceToken{}
	}
	sc.pieces[piece] = toks
	return toks
}

// spansBuf is spans with scratch space. With
// fragmented, it stops at the first span that fragments would leave out
// (and every later one would): the spans it returns give the same
// fragments as all of them.
func (e *Engine) spansBuf(text string, hs highlightTerms, sc *scratch, fragmented bool) []span {
	if len(hs) == 0 || text == "" {
		return nil
	}
	var out []span
	w := windows{text: text}
	stopped := false
	analyse := func(start, end int) {
		for _, t := range e.tokens(text[start:end], sc) {
			if hs.match(t.term) {
				s := span{start + t.start, start + t.end}
				if fragmented && !w.add(s) {
					stopped = true
					return
				}
				out = append(out, s)
			}
		}
	}
	// find returns the first index at or after from where the folded
	// text holds p, or -1.
	var find func(from int, p string) int
	if isASCII(text) {
		// Folding keeps every byte in place.
		find = func(from int, p string) int { return indexFold(text, from, p) }
	} else if lower := strings.ToLower(text); foldAligned(text, lower) {
		find = func(from int, p string) int {
			if j := strings.Index(lower[from:], p); j >= 0 {
				return from + j
			}
			return -1
		}
	} else {
		if !hs.mayMatch(lower) {
			return nil
		}
		probes := hs.probes()
		for start := 0; start < len(text) && !stopped; {
			end := pieceEnd(text, start)
			if start < end && containsProbe(text[start:end], probes, &sc.buf) {
				analyse(start, end)
			}
			start = end + 1
		}
		return out
	}
	// Find the probes in the folded text, first to last, and analyse the
	// pieces holding them. No term's probe and no prefix in the text is
	// mayMatch's false.
	type probe struct {
		p    string
		next int // its next occurrence, -1 for none
	}
	var ps []probe
	may := false
	for _, m := range hs {
		if m.prefix != "" {
			p := cut(m.prefix)
			ps = append(ps, probe{p: p, next: find(0, p)})
			may = may || find(0, m.prefix) >= 0
		}
	}
	for _, m := range hs {
		for t := range m.terms {
			p := probe{p: cut(t)}
			p.next = find(0, p.p)
			ps = append(ps, p)
			may = may || p.next >= 0
		}
	}
	if !may {
		return nil
	}
	for !stopped {
		h := -1
		for _, p := range ps {
			if p.next >= 0 && (h < 0 || p.next < h) {
				h = p.next
			}
		}
		if h < 0 {
			break
		}
		end := pieceEnd(text, h)
		analyse(pieceStart(text, h), end)
		for k := range ps {
			if ps[k].next >= 0 && ps[k].next < end {
				ps[k].next = find(end, ps[k].p)
			}
		}
	}
	return out
}

// isASCII reports whether text is ASCII, eight bytes at a time.
func isASCII(text string) bool {
	i := 0
	for ; i+8 <= len(text); i += 8 {
		w := uint64(text[i]) | uint64(text[i+1])<<8 | uint64(text[i+2])<<16 | uint64(text[i+3])<<24 |
			uint64(text[i+4])<<32 | uint64(text[i+5])<<40 | uint64(text[i+6])<<48 | uint64(text[i+7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	return true
}

// indexFold returns the first index at or after from where ASCII text,
// folded to lower case, holds p (not empty), or -1, without folding the
// text: the candidates are the occurrences, in either case, of p's rarest
// letter in English text (the anchor).
func indexFold(text string, from int, p string) int {
	for i := 0; i < len(p); i++ {
		if 'A' <= p[i] && p[i] <= 'Z' {
			return -1 // folded text has no capitals
		}
	}
	a := 0
	for i := 1; i < len(p); i++ {
		if letterRank[p[i]] > letterRank[p[a]] {
			a = i
		}
	}
	c := p[a]
	u := c
	if 'a' <= c && c <= 'z' {
		u = c - ('a' - 'A')
	}
	lo, up := -2, -2 // the next c and u at or after i+a; -2 unknown, -1 none
	if u == c {
		up = -1
	}
	for i := from; i+len(p) <= len(text); {
		if lo != -1 && lo < i+a {
			if lo = strings.IndexByte(text[i+a:], c); lo >= 0 {
				lo += i + a
			}
		}
		if up != -1 && up < i+a {
			if up = strings.IndexByte(text[i+a:], u); up >= 0 {
				up += i + a
			}
		}
		k := lo
		if up >= 0 && (k < 0 || up < k) {
			k = up
		}
		if k < 0 || k-a+len(p) > len(text) {
			return -1
		}
		if equalFold(text[k-a:k-a+len(p)], p) {
			return k - a
		}
		i = k - a + 1
	}
	return -1
}

// letterRank ranks lower-case letters from the most frequent in English
// text (1) to the rarest (26); every other byte ranks above them all.
var letterRank = func() (r [256]uint8) {
	for i := range r {
		r[i] = 27
	}
	for i, c := range "etaoinshrdlcumwfgypbvkjxqz" {
		r[c] = uint8(i + 1)
	}
	return r
}()

// equalFold reports whether ASCII s folded to lower case is p.
func equalFold(s, p string) bool {
	for i := 0; i < len(p); i++ {
		if lowerASCII[s[i]] != p[i] {
			return false
		}
	}
	return true
}

// windows follows the windows fragments cuts around the spans of a text,
// given one by one in order.
type windows struct {
	text string
	n    int // windows opened
	end  int // the end of the last one
}

// add reports whether fragments uses span s after the spans added before
// it; when it does not, it uses no later span either.
func (w *windows) add(s span) bool {
	if w.n > 0 && s.end <= w.end {
		return true
	}
	if w.n == fragmentsByField {
		return false
	}
	w.n++
	w.end = fragmentEnd(w.text, s)
	return true
}

// fragmentEnd returns the end of the fragment that starts with span s.
func fragmentEnd(text string, s span) int {
	start := snapBack(text, s.start-fragmentLead)
	end := snapForward(text, start+fragmentBytes)
	if end < s.end {
		end = snapForward(text, s.end)
	}
	return end
}

// lowerASCII maps A-Z to a-z and every other byte to itself.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

// pieceStart returns the start of the piece holding byte i (not itself a
// piece's end): just after the previous ASCII whitespace byte followed by
// an ASCII byte, or 0.
func pieceStart(text string, i int) int {
	for j := i - 1; j >= 0; j-- {
		if isSpace(text[j]) && text[j+1] < 0x80 {
			return j + 1
		}
	}
	return 0
}

// foldAligned reports whether lower, strings.ToLower(text), has every
// character at the same byte offset as text (true unless folding changed
// the length of some character's encoding).
func foldAligned(text, lower string) bool {
	if len(lower) != len(text) {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			for _, r := range text[i:] {
				if utf8.RuneLen(r) != utf8.RuneLen(unicode.ToLower(r)) {
					return false
				}
			}
			return true
		}
	}
	return true
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\v' || b == '\f'
}

// pieceEnd returns the end of the piece starting at start: the next ASCII
// whitespace byte that is followed by an ASCII byte or ends the text.
func pieceEnd(text string, start int) int {
	for i := start; i < len(text); i++ {
		if isSpace(text[i]) && (i+1 == len(text) || text[i+1] < 0x80) {
			return i
		}
	}
	return len(text)
}

// probes returns substrings that the folded form of every matching word
// contains: a term or prefix without its last letter (see mayMatch).
func (hs highlightTerms) probes() []string {
	var out []string
	for _, m := range hs {
		if m.prefix != "" {
			out = append(out, cut(m.prefix))
		}
		for t := range m.terms {
			out = append(out, cut(t))
		}
	}
	return out
}

// cut returns s without its last byte, or s when it has one at most.
func cut(s string) string {
	if len(s) > 1 {
		return s[:len(s)-1]
	}
	return s
}

// containsProbe reports whether the folded piece contains a probe; buf is
// scratch space for folding ASCII pieces.
func containsProbe(piece string, probes []string, buf *[]byte) bool {
	lower := ""
	ascii := true
	for i := 0; i < len(piece); i++ {
		if piece[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		b := (*buf)[:0]
		for i := 0; i < len(piece); i++ {
			c := piece[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		*buf = b
		for _, p := range probes {
			if len(p) <= len(b) && bytes.Contains(b, []byte(p)) {
				return true
			}
		}
		return false
	}
	lower = strings.ToLower(piece)
	for _, p := range probes {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// highlight returns the escaped title with marks and the fragments of every
// other field that matched.
func (e *Engine) highlight(in *index.Incident, hs highlightTerms) (string, []Fragment) {
	frags := []Fragment{}
	sc := &scratch{}
	title := markAll(in.Title, e.spansBuf(in.Title, hs.forField("title"), sc, false))
	if len(hs) == 0 {
		return title, frags
	}
	for _, f := range index.TextFields[1:] {
		text := *f.Get(in)
		if sp := e.spansBuf(text, hs.forField(f.Name), sc, true); len(sp) > 0 {
			frags = append(frags, Fragment{Field: f.Name, Label: f.Label, HTML: fragments(text, sp)})
		}
	}
	rh := hs.forField(index.FieldRationale)
	for _, c := range index.Taxonomy {
		text := in.Taxonomy[c.Name].Rationale
		if sp := e.spansBuf(text, rh, sc, true); len(sp) > 0 {
			frags = append(frags, Fragment{Field: index.FieldRationale, Category: c.Name, Label: c.Label + " rationale", HTML: fragments(text, sp)})
		}
	}
	if src := strings.Join(in.Sources, "\n"); src != "" {
		if sp := e.spansBuf(src, hs.forField(index.FieldSources), sc, true); len(sp) > 0 {
			frags = append(frags, Fragment{Field: index.FieldSources, Label: "Sources", HTML: fragments(src, sp)})
		}
	}
	return title, frags
}

// markAll escapes the whole text, marking the spans.
func markAll(text string, sp []span) string {
	var b strings.Builder
	writeMarked(&b, text, 0, len(text), sp)
	return b.String()
}

// fragments cuts up to fragmentsByField windows of text around the spans.
func fragments(text string, sp []span) []string {
	var out []string
	i := 0
	for i < len(sp) && len(out) < fragmentsByField {
		start := snapBack(text, sp[i].start-fragmentLead)
		end := fragmentEnd(text, sp[i])
		j := i
		for j < len(sp) && sp[j].end <= end {
			j++
		}
		var b strings.Builder
		b.Grow(end - start + 32*(j-i+1))
		if start > 0 {
			b.WriteString("… ")
		}
		writeMarked(&b, text, start, end, sp[i:j])
		if end < len(text) {
			b.WriteString(" …")
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

// writeMarked writes text[from:to] escaped, with spans (which must lie in
// the range and be ordered) wrapped in <mark>.
func writeMarked(b *strings.Builder, text string, from, to int, sp []span) {
	pos := from
	for _, s := range sp {
		if s.start < pos || s.end > to {
			continue
		}
		escape(b, text[pos:s.start])
		b.WriteString("<mark>")
		escape(b, text[s.start:s.end])
		b.WriteString("</mark>")
		pos = s.end
	}
	escape(b, text[pos:to])
}

// escape writes s escaped as html.EscapeString does, without its copy.
func escape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if !htmlSpecial[s[i]] {
			continue
		}
		var r string
		switch s[i] {
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		case '"':
			r = "&#34;"
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// htmlSpecial marks the bytes that escape replaces.
var htmlSpecial = [256]bool{'&': true, '\'': true, '<': true, '>': true, '"': true}

// snapBack moves i back to the start of a word (0 at most).
func snapBack(text string, i int) int {
	if i <= 0 {
		return 0
	}
	// The text's start is a word's start too (j = -1).
	if j := strings.LastIndexAny(text[:i], " \n\t"); i-j < 30 {
		return j + 1
	}
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	return i
}

// snapForward moves i forward to the end of a word (len(text) at most).
func snapForward(text string, i int) int {
	if i >= len(text) {
		return len(text)
	}
	j := strings.IndexAny(text[i:], " \n\t")
	if j < 0 {
		// The text's end is a word's end too.
		j = len(text) - i
	}
	if j < 30 {
		return i + j
	}
	for i < len(text) && !utf8.RuneStart(text[i]) {
		i++
	}
	return i
}

// pageFields records, for the documents of a page of hits, which query
// terms each prose field holds, from the fields' postings: a term a field
// does not hold cannot be marked in it, so it is not looked for, and a
// field holding none of the terms is neither folded nor analysed (narrow).
type pageFields struct {
	hs    highlightTerms
	byDoc map[uint32]highlightTerms // the narrowed matchers of each document
	// narrowed lists the fields narrowed (a field with a prefix matcher
	// is not).
	narrowed map[string]bool
}

// pageFields reads, from the postings, which terms of hs the fields of the
// page's documents hold, and narrows the matchers of each document.
func (e *Engine) pageFields(hs highlightTerms, page []scored) (*pageFields, error) {
	pf := &pageFields{hs: hs, byDoc: map[uint32]highlightTerms{}, narrowed: map[string]bool{}}
	if len(hs) == 0 || len(page) == 0 || e.segs == nil {
		return pf, nil
	}
	docs := make([]uint32, len(page))
	for i, c := range page {
		docs[i] = c.doc
	}
	slices.Sort(docs)
	keys := make([][]byte, len(docs)) // per document: which terms each field holds
	type fieldTerms struct {
		field   string
		matches highlightTerms
		terms   []string
		cache   map[string]highlightTerms // narrowed matchers by key
	}
	var fts []*fieldTerms
	for _, f := range highlighted {
		fh := hs.forField(f)
		if len(fh) == 0 || fh.prefixed() {
			continue
		}
		ft := &fieldTerms{field: f, matches: fh, cache: map[string]highlightTerms{}}
		for _, m := range fh {
			for t := range m.terms {
				if !slices.Contains(ft.terms, t) {
					ft.terms = append(ft.terms, t)
				}
			}
		}
		for _, t := range ft.terms {
			bm, err := e.segs.termDocs(f, t, docs)
			if err != nil {
				return nil, err
			}
			for i, d := range docs {
				held := byte('0')
				if bm.Contains(d) {
					held = '1'
				}
				keys[i] = append(keys[i], held)
			}
		}
		fts = append(fts, ft)
		pf.narrowed[f] = true
	}
	for i, d := range docs {
		var out highlightTerms
		for _, f := range highlighted {
			if !pf.narrowed[f] {
				for _, m := range hs {
					if m.fields == nil || m.fields[f] {
						out = append(out, matcher{field: f, terms: m.terms, prefix: m.prefix})
					}
				}
			}
		}
		at := 0
		for _, ft := range fts {
			key := string(keys[i][at : at+len(ft.terms)])
			at += len(ft.terms)
			ms, ok := ft.cache[key]
			if !ok {
				for _, m := range ft.matches {
					n := matcher{field: ft.field, terms: map[string]bool{}}
					for j, t := range ft.terms {
						if key[j] == '1' && m.terms[t] {
							n.terms[t] = true
						}
					}
					if len(n.terms) > 0 {
						ms = append(ms, n)
					}
				}
				ft.cache[key] = ms
			}
			out = append(out, ms...)
		}
		pf.byDoc[d] = out
	}
	return pf, nil
}

// narrow returns the matchers of the page for document d, whose stored
// incident is in: for each field, those applying to it with the terms d
// holds in it (none: no matcher). Marks are the same as with every matcher
// (the stored text is the indexed text) but for the rationales of
// categories without options, which the index leaves out (index.Document):
// the rationale field is then not narrowed.
func (pf *pageFields) narrow(in *index.Incident, d uint32) highlightTerms {
	hs, ok := pf.byDoc[d]
	if !ok {
		return pf.hs
	}
	if !pf.narrowed[index.FieldRationale] || !unindexedRationale(in) {
		return hs
	}
	var out highlightTerms
	for _, m := range hs {
		if m.field != index.FieldRationale {
			out = append(out, m)
		}
	}
	for _, m := range pf.hs {
		if m.fields == nil || m.fields[index.FieldRationale] {
			out = append(out, matcher{field: index.FieldRationale, terms: m.terms, prefix: m.prefix})
		}
	}
	return out
}

// prefixed reports whether a matcher of hs has a prefix.
func (hs highlightTerms) prefixed() bool {
	for _, m := range hs {
		if m.prefix != "" {
			return true
		}
	}
	return false
}

// highlighted lists the prose fields that highlight marks.
var highlighted = func() []string {
	var out []string
	for _, f := range index.TextFields {
		out = append(out, f.Name)
	}
	return append(out, index.FieldRationale, index.FieldSources)
}()

// unindexedRationale reports whether some category of in has a rationale
// but no options (not indexed).
func unindexedRationale(in *index.Incident) bool {
	for _, cl := range in.Taxonomy {
		if cl.Rationale != "" && len(cl.Options) == 0 {
			return true
		}
	}
	return false
}
