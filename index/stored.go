package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unsafe"
)

// An incident is stored in the index (FieldStored) in a compact binary
// form, which decodes about ten times faster than JSON: every hit shown
// and every exported incident is decoded from it. DecodeStored also reads
// the JSON that indexes built before stored.
//
// The form: storedMagic, storedVersion, then the string fields in the order
// of storedStrings (each a uvarint length and the bytes); the articles (a
// uvarint count plus one, 0 for nil, then varints); the sources (a count,
// then strings); the taxonomy (a count plus one, 0 for nil, then per
// category in name order its name, its options (a count plus one, 0 for
// nil, then strings) and its rationale). Nil and empty are kept apart where
// a JSON round trip keeps them apart, so both forms decode alike.
//
// Version 2 follows this with the tagged organisations: the responsible
// ones, then the impacted ones (each a count, then strings). An incident
// with none is written in version 1, which both versions read.
const (
	storedMagic   = 0xFA // never the first byte of JSON
	storedVersion = 1
	storedOrgs    = 2 // storedVersion followed by the organisations
)

func storedStrings(in *Incident) []*string {
	return []*string{&in.ID, &in.Title, &in.Published, &in.Summary, &in.Timeline, &in.System,
		&in.ResponsibleOrg, &in.ImpactedOrg, &in.SoftwareCauses, &in.NonSoftwareCauses, &in.Impacts,
		&in.Preventions, &in.Fixes, &in.References}
}

// encodeStored returns the stored form of an incident.
func encodeStored(in *Incident) []byte {
	n := 64
	for _, p := range storedStrings(in) {
		n += len(*p) + 3
	}
	for _, cl := range in.Taxonomy {
		n += len(cl.Rationale) + 64
	}
	version := byte(storedVersion)
	if len(in.ResponsibleOrgs)+len(in.ImpactedOrgs) > 0 {
		version = storedOrgs
	}
	b := make([]byte, 0, n)
	b = append(b, storedMagic, version)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	count := func(n int, isNil bool) {
		if isNil {
			b = binary.AppendUvarint(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(n)+1)
		}
	}
	for _, p := range storedStrings(in) {
		str(*p)
	}
	count(len(in.Articles), in.Articles == nil)
	for _, a := range in.Articles {
		b = binary.AppendVarint(b, a)
	}
	b = binary.AppendUvarint(b, uint64(len(in.Sources)))
	for _, s := range in.Sources {
		str(s)
	}
	count(len(in.Taxonomy), in.Taxonomy == nil)
	names := make([]string, 0, len(in.Taxonomy))
	for name := range in.Taxonomy {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cl := in.Taxonomy[name]
		str(name)
		count(len(cl.Options), cl.Options == nil)
		for _, o := range cl.Options {
			str(o)
		}
		str(cl.Rationale)
	}
	if version == storedOrgs {
		for _, list := range [][]string{in.ResponsibleOrgs, in.ImpactedOrgs} {
			b = binary.AppendUvarint(b, uint64(len(list)))
			for _, s := range list {
				str(s)
			}
		}
	}
	return b
}

var errStoredShort = errors.New("truncated")

// decodeStoredBinary decodes the stored form; corrupt input is an error,
// never a panic. The incident's strings share b's memory (one allocation
// for a whole incident instead of one per string), so b must not change
// afterwards.
func decodeStoredBinary(b []byte) (Incident, error) {
	var in Incident
	if len(b) < 2 || b[0] != storedMagic {
		return in, errors.New("not the binary form")
	}
	if b[1] != storedVersion && b[1] != storedOrgs {
		return in, fmt.Errorf("form version %d (rebuild the index)", b[1])
	}
	r := &storedReader{b: b[2:]}
	for _, p := range storedStrings(&in) {
		*p = r.str()
	}
	if n, ok := r.count(); ok {
		in.Articles = make([]int64, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			in.Articles = append(in.Articles, r.varint())
		}
	}
	if n := r.bounded(r.uvarint()); n > 0 {
		for i := 0; i < n && r.err == nil; i++ {
			in.Sources = append(in.Sources, r.str())
		}
	}
	if n, ok := r.count(); ok {
		in.Taxonomy = make(map[string]Classification, n)
		for i := 0; i < n && r.err == nil; i++ {
			name := r.str()
			in.Taxonomy[name] = r.classification()
		}
	}
	if b[1] == storedOrgs {
		for _, list := range []*[]string{&in.ResponsibleOrgs, &in.ImpactedOrgs} {
			n := r.bounded(r.uvarint())
			for i := 0; i < n && r.err == nil; i++ {
				*list = append(*list, r.str())
			}
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return Incident{}, r.err
	}
	return in, nil
}

// storedReader reads the parts of the stored form from b. After its first
// error (err), every read returns a zero value.
type storedReader struct {
	b   []byte
	err error
}

func (r *storedReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errStoredShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *storedReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errStoredShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *storedReader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errStoredShort
		return ""
	}
	if n == 0 {
		return ""
	}
	s := unsafe.String(&r.b[0], n)
	r.b = r.b[n:]
	return s
}

// bounded returns a count that the remaining bytes can hold (each item
// takes at least one byte), so corrupt counts cannot allocate much.
func (r *storedReader) bounded(n uint64) int {
	if n > uint64(len(r.b)) {
		r.err = errStoredShort
		return 0
	}
	return int(n)
}

// count reads the count of a list or map that may be nil (stored as its
// length plus one, 0 for nil); ok is false for nil and after an error.
func (r *storedReader) count() (n int, ok bool) {
	c := r.uvarint()
	if c == 0 || r.err != nil {
		return 0, false
	}
	return r.bounded(c - 1), true
}

// classification reads a category's options and rationale.
func (r *storedReader) classification() Classification {
	var cl Classification
	if k, ok := r.count(); ok {
		cl.Options = make([]string, 0, k)
		for j := 0; j < k && r.err == nil; j++ {
			cl.Options = append(cl.Options, r.str())
		}
	}
	cl.Rationale = r.str()
	return cl
}
