package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
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
const (
	storedMagic   = 0xFA // never the first byte of JSON
	storedVersion = 1
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
	b := make([]byte, 0, n)
	b = append(b, storedMagic, storedVersion)
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
	return b
}

var errStoredShort = errors.New("truncated")

// decodeStoredBinary decodes the stored form; corrupt input is an error,
// never a panic.
func decodeStoredBinary(b []byte) (Incident, error) {
	var in Incident
	if len(b) < 2 || b[0] != storedMagic {
		return in, errors.New("not the binary form")
	}
	if b[1] != storedVersion {
		return in, fmt.Errorf("form version %d (rebuild the index)", b[1])
	}
	b = b[2:]
	var err error
	uv := func() uint64 {
		if err != nil {
			return 0
		}
		v, n := binary.Uvarint(b)
		if n <= 0 {
			err = errStoredShort
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := uv()
		if err != nil {
			return ""
		}
		if n > uint64(len(b)) {
			err = errStoredShort
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	// bounded returns a count that the remaining bytes can hold (each item
	// takes at least one byte), so corrupt counts cannot allocate much.
	bounded := func(n uint64) int {
		if n > uint64(len(b)) {
			err = errStoredShort
			return 0
		}
		return int(n)
	}
	for _, p := range storedStrings(&in) {
		*p = str()
	}
	if c := uv(); c > 0 && err == nil {
		n := bounded(c - 1)
		in.Articles = make([]int64, 0, n)
		for i := 0; i < n && err == nil; i++ {
			v, k := binary.Varint(b)
			if k <= 0 {
				err = errStoredShort
				break
			}
			b = b[k:]
			in.Articles = append(in.Articles, v)
		}
	}
	if n := bounded(uv()); n > 0 {
		for i := 0; i < n && err == nil; i++ {
			in.Sources = append(in.Sources, str())
		}
	}
	if c := uv(); c > 0 && err == nil {
		n := bounded(c - 1)
		in.Taxonomy = make(map[string]Classification, n)
		for i := 0; i < n && err == nil; i++ {
			name := str()
			var cl Classification
			if oc := uv(); oc > 0 && err == nil {
				k := bounded(oc - 1)
				cl.Options = make([]string, 0, k)
				for j := 0; j < k && err == nil; j++ {
					cl.Options = append(cl.Options, str())
				}
			}
			cl.Rationale = str()
			in.Taxonomy[name] = cl
		}
	}
	if err == nil && len(b) > 0 {
		err = fmt.Errorf("%d bytes after the end", len(b))
	}
	if err != nil {
		return Incident{}, err
	}
	return in, nil
}
