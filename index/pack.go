package index

import (
	"archive/tar"
	"bufio"
	"bytes"
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
	"sort"
	"strings"
	"time"
)

// An artifact is one generation of the index as a single file, to ship it
// from the machine that builds it to read-only replicas. It is an
// uncompressed tar holding manifest.json first, then the manifest's bleve
// files under bleve/ in name order, with fixed headers (mode 0644, the
// manifest's build time, no owner): the same generation always packs to
// the same bytes. The SHA-256 of the whole file is its name: a checksum
// file in sha256sum's format,
//
//	<64 hex digits>  <artifact file name>
//
// sits beside it (FILE.sha256) or, in an artifact directory, is the
// pointer to the newest artifact (latest.sha256, see PackFile).
//
// A replica installs an artifact only once the whole matches its checksum
// and every file matches the manifest; the generation it installs records
// the checksum in artifact.sha256.

const (
	// ArtifactPointer is the checksum file of an artifact directory that
	// names its newest artifact.
	ArtifactPointer = "latest.sha256"
	artifactPrefix  = "faildex-"
	artifactSuffix  = ".tar"
	artifactSumFile = "artifact.sha256"
	// keepArtifacts is how many artifacts an artifact directory keeps, so
	// that a replica still downloading the previous one can finish.
	keepArtifacts = 3
	// maxManifestBytes bounds the manifest read from an artifact.
	maxManifestBytes = 64 << 20
)

// ErrTooLarge is returned when an artifact exceeds the size allowed.
var ErrTooLarge = errors.New("artifact too large")

// PackInfo describes an artifact.
type PackInfo struct {
	Sum   string // SHA-256 of the whole file, hex
	Size  int64  // bytes
	Files int    // bleve files
	Count uint64 // documents
	Built time.Time
	Path  string // where PackFile wrote it
}

// Pack writes the generation current in dir to w as an artifact. Every
// file is checked against the manifest while it is copied: a damaged
// generation is never packed.
func Pack(dir string, w io.Writer) (PackInfo, error) {
	gen, err := CurrentGeneration(dir)
	if err != nil {
		return PackInfo{}, err
	}
	m, err := readManifest(gen)
	if err != nil {
		return PackInfo{}, err
	}
	root := filepath.Join(gen, bleveDir)
	present, err := checksums(root, false)
	if err != nil {
		return PackInfo{}, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	for name := range present {
		if _, ok := m.Files[name]; !ok {
			return PackInfo{}, fmt.Errorf("%w: unexpected file %s", ErrDamaged, filepath.Join(root, name))
		}
	}
	manifest, err := os.ReadFile(filepath.Join(gen, manifestName))
	if err != nil {
		return PackInfo{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	tw := tar.NewWriter(bw)
	mtime := m.Built.UTC().Truncate(time.Second)
	header := func(name string, size int64) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(header(manifestName, int64(len(manifest)))); err != nil {
		return PackInfo{}, err
	}
	if _, err := tw.Write(manifest); err != nil {
		return PackInfo{}, err
	}
	names := make([]string, 0, len(m.Files))
	for name := range m.Files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		want := m.Files[name]
		if err := packFile(tw, filepath.Join(root, name), header(path.Join(bleveDir, filepath.ToSlash(name)), want.Size), want); err != nil {
			return PackInfo{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return PackInfo{}, err
	}
	if err := bw.Flush(); err != nil {
		return PackInfo{}, err
	}
	return PackInfo{Sum: hex.EncodeToString(h.Sum(nil)), Size: cw.n, Files: len(names), Count: m.Count, Built: m.Built}, nil
}

// packFile copies one bleve file into the tar, checking its size and
// CRC-32C against the manifest.
func packFile(tw *tar.Writer, file string, hdr *tar.Header, want FileCheck) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || info.Size() != want.Size {
		return fmt.Errorf("%w: %s does not have the manifest's size", ErrDamaged, file)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	c := crc32.New(castagnoli)
	if _, err := io.CopyN(io.MultiWriter(tw, c), f, want.Size); err != nil {
		return err
	}
	if c.Sum32() != want.CRC32 {
		return fmt.Errorf("%w: %s fails its checksum", ErrDamaged, file)
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// PackFile packs the generation current in dir into out. When out is a
// directory (it exists, or ends with a slash), the artifact is written as
// out/faildex-<sum>.tar and out/latest.sha256 is then replaced to name it,
// which is how a writer publishes: replicas follow latest.sha256, and the
// oldest artifacts beyond the last three are removed. Otherwise the
// artifact is written to the file out, and its checksum to out.sha256.
// Every file appears by an atomic rename, the artifact before its checksum.
func PackFile(dir, out string) (PackInfo, error) {
	asDir := strings.HasSuffix(out, "/") || strings.HasSuffix(out, string(filepath.Separator))
	if info, err := os.Stat(out); err == nil && info.IsDir() {
		asDir = true
	}
	outDir := filepath.Dir(out)
	if asDir {
		outDir = filepath.Clean(out)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return PackInfo{}, err
	}
	tmp, err := os.CreateTemp(outDir, ".pack-*")
	if err != nil {
		return PackInfo{}, err
	}
	defer os.Remove(tmp.Name())
	info, err := Pack(dir, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if err2 := tmp.Close(); err == nil {
		err = err2
	}
	if err != nil {
		return PackInfo{}, err
	}
	target, sumFile := out, out+".sha256"
	if asDir {
		target = filepath.Join(outDir, artifactPrefix+info.Sum+artifactSuffix)
		sumFile = filepath.Join(outDir, ArtifactPointer)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return PackInfo{}, err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return PackInfo{}, err
	}
	line := fmt.Sprintf("%s  %s\n", info.Sum, filepath.Base(target))
	if err := writeFileAtomic(sumFile, []byte(line)); err != nil {
		return PackInfo{}, err
	}
	if asDir {
		pruneArtifacts(outDir, filepath.Base(target))
	}
	info.Path = target
	return info, syncDir(outDir)
}

// writeFileAtomic replaces path with b by writing a temporary file beside
// it, syncing it and renaming it over path.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if err2 := tmp.Close(); err == nil {
		err = err2
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// pruneArtifacts keeps the newest keepArtifacts artifacts of an artifact
// directory, keep included.
func pruneArtifacts(dir, keep string) {
	entries, _ := os.ReadDir(dir)
	type art struct {
		name string
		mod  time.Time
	}
	var arts []art
	for _, e := range entries {
		n := e.Name()
		if n == keep || !strings.HasPrefix(n, artifactPrefix) || !strings.HasSuffix(n, artifactSuffix) {
			continue
		}
		if info, err := e.Info(); err == nil {
			arts = append(arts, art{n, info.ModTime()})
		}
	}
	sort.Slice(arts, func(i, j int) bool { return arts[i].mod.After(arts[j].mod) })
	for i := keepArtifacts - 1; i < len(arts); i++ {
		os.Remove(filepath.Join(dir, arts[i].name))
	}
}

// ParseChecksumFile reads a checksum file in sha256sum's format and returns
// the checksum (lower-case hex) and the file name it names, if any.
func ParseChecksumFile(b []byte) (sum, name string, err error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 || len(fields) > 2 {
		return "", "", errors.New("a checksum file holds one line: SHA256 [NAME]")
	}
	sum = strings.ToLower(fields[0])
	if !IsSum(sum) {
		return "", "", fmt.Errorf("%q is not a SHA-256 in hex", fields[0])
	}
	if len(fields) == 2 {
		name = strings.TrimPrefix(fields[1], "*")
	}
	return sum, name, nil
}

// IsSum reports whether s is a SHA-256 in lower-case hex.
func IsSum(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SumInName returns the checksum carried in an artifact's file name
// (faildex-<sum>.tar), or "".
func SumInName(name string) string {
	base := path.Base(filepath.ToSlash(name))
	if s, ok := strings.CutPrefix(base, artifactPrefix); ok {
		if s, ok = strings.CutSuffix(s, artifactSuffix); ok && IsSum(s) {
			return s
		}
	}
	return ""
}

// ArtifactSum returns the checksum of the artifact a generation directory
// was unpacked from, or "" for a generation built here.
func ArtifactSum(gen string) string {
	b, err := os.ReadFile(filepath.Join(gen, artifactSumFile))
	if err != nil {
		return ""
	}
	if s := strings.TrimSpace(string(b)); IsSum(s) {
		return s
	}
	return ""
}

// CurrentArtifact returns the checksum of the artifact the generation
// current in dir was unpacked from, or "".
func CurrentArtifact(dir string) string {
	gen, err := CurrentGeneration(dir)
	if err != nil {
		return ""
	}
	return ArtifactSum(gen)
}

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
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, 0, unpackErr(err)
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
