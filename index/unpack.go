package index

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Reading an artifact back: see pack.go for its format.

// UnpackInfo describes an installed artifact.
type UnpackInfo struct {
	Sum   string
	Size  int64
	Files int
	Count uint64
	Built time.Time
	Gen   string // the generation's directory
}

// Unpack reads an artifact from r into a new generation of dir and makes
// it current with the atomic swap builds use. Nothing is installed unless
// the artifact is complete, at most maxBytes long (ErrTooLarge), its
// SHA-256 is sum, it holds exactly the manifest's files with their sizes
// and CRC-32C, and the bleve index opens with the manifest's document
// count; a refused artifact (ErrDamaged) leaves the current generation as
// it was. Unpack holds the directory's build lock.
func Unpack(dir string, r io.Reader, sum string, maxBytes int64) (_ UnpackInfo, err error) {
	if !IsSum(sum) {
		return UnpackInfo{}, fmt.Errorf("%q is not a SHA-256 in hex", sum)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return UnpackInfo{}, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return UnpackInfo{}, err
	}
	defer unlock()
	removeStale(dir)
	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return UnpackInfo{}, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	h := sha256.New()
	lr := &limitReader{r: r, left: maxBytes}
	src := io.TeeReader(lr, h)
	m, files, err := extract(tar.NewReader(src), tmp)
	if err != nil {
		return UnpackInfo{}, err
	}
	// The end of the tar (padding and trailer blocks) is part of the sum.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return UnpackInfo{}, unpackErr(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return UnpackInfo{}, fmt.Errorf("%w: the artifact's SHA-256 is %s, expected %s", ErrDamaged, got, sum)
	}
	if err := os.WriteFile(filepath.Join(tmp, artifactSumFile), []byte(sum+"\n"), 0o644); err != nil {
		return UnpackInfo{}, err
	}
	if err := syncTree(tmp); err != nil {
		return UnpackInfo{}, err
	}
	bi, err := openReadOnly(filepath.Join(tmp, bleveDir))
	if err != nil {
		return UnpackInfo{}, fmt.Errorf("%w: %s", ErrDamaged, strings.Join(strings.Fields(err.Error()), " "))
	}
	n, err := bi.DocCount()
	bi.Close()
	if err != nil || n != m.Count {
		return UnpackInfo{}, fmt.Errorf("%w: the artifact holds %d documents, its manifest says %d", ErrDamaged, n, m.Count)
	}
	b := &build{dir: dir, tmp: tmp}
	gen, err := b.install()
	if err != nil {
		return UnpackInfo{}, err
	}
	return UnpackInfo{Sum: sum, Size: maxBytes - lr.left, Files: files, Count: m.Count, Built: m.Built, Gen: gen}, nil
}

// extract writes the artifact's files into the generation directory gen,
// checking them against its manifest, and returns the manifest and the
// number of bleve files.
func extract(tr *tar.Reader, gen string) (Manifest, int, error) {
	var m Manifest
	hdr, err := tr.Next()
	if err != nil {
		return m, 0, unpackErr(err)
	}
	if hdr.Name != manifestName || hdr.Typeflag != tar.TypeReg || hdr.Size > maxManifestBytes {
		return m, 0, fmt.Errorf("%w: an artifact starts with %s", ErrDamaged, manifestName)
	}
	raw, err := io.ReadAll(tr)
	if err != nil {
		return m, 0, unpackErr(err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, 0, fmt.Errorf("%w: %s: %v", ErrDamaged, manifestName, err)
	}
	if m.Version != manifestVersion {
		return m, 0, fmt.Errorf("%w: manifest version %d, want %d", ErrDamaged, m.Version, manifestVersion)
	}
	if err := os.WriteFile(filepath.Join(gen, manifestName), raw, 0o644); err != nil {
		return m, 0, err
	}
	seen := map[string]bool{}
	seenSources := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, 0, unpackErr(err)
		}
		if hdr.Name == sourcesName && m.Sources != nil && !seenSources && hdr.Typeflag == tar.TypeReg {
			seenSources = true
			if hdr.Size != m.Sources.Size {
				return m, 0, fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrDamaged, hdr.Name, hdr.Size, m.Sources.Size)
			}
			if err := extractFile(tr, filepath.Join(gen, sourcesName), *m.Sources); err != nil {
				return m, 0, fmt.Errorf("%s: %w", hdr.Name, err)
			}
			continue
		}
		name, ok := strings.CutPrefix(hdr.Name, bleveDir+"/")
		if !ok || hdr.Typeflag != tar.TypeReg || path.Clean(name) != name || name == "." || strings.HasPrefix(name, "../") {
			return m, 0, fmt.Errorf("%w: unexpected entry %q", ErrDamaged, hdr.Name)
		}
		rel := filepath.FromSlash(name)
		want, ok := m.Files[rel]
		if !ok || seen[rel] {
			return m, 0, fmt.Errorf("%w: %s is not in the manifest, or twice in the artifact", ErrDamaged, hdr.Name)
		}
		seen[rel] = true
		if hdr.Size != want.Size {
			return m, 0, fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrDamaged, hdr.Name, hdr.Size, want.Size)
		}
		if err := extractFile(tr, filepath.Join(gen, bleveDir, rel), want); err != nil {
			return m, 0, fmt.Errorf("%s: %w", hdr.Name, err)
		}
	}
	for name := range m.Files {
		if !seen[name] {
			return m, 0, fmt.Errorf("%w: %s is missing from the artifact", ErrDamaged, name)
		}
	}
	if m.Sources != nil && !seenSources {
		return m, 0, fmt.Errorf("%w: %s is missing from the artifact", ErrDamaged, sourcesName)
	}
	return m, len(seen), nil
}

func extractFile(r io.Reader, file string, want FileCheck) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	c := crc32.New(castagnoli)
	_, err = io.CopyN(io.MultiWriter(f, c), r, want.Size)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return unpackErr(err)
	}
	if c.Sum32() != want.CRC32 {
		return fmt.Errorf("%w: fails its checksum", ErrDamaged)
	}
	return nil
}

// unpackErr names what a read error means for an artifact: a short read
// or a malformed tar is damage; the size limit and the caller's errors
// (a cancelled download) pass through.
func unpackErr(err error) error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return err
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: the artifact is truncated", ErrDamaged)
	case errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong), errors.Is(err, tar.ErrInsecurePath):
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return err
}

// limitReader reads at most left bytes from r and fails with ErrTooLarge
// when r holds more.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more than allowed tells a long stream from an exact one.
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
