package index

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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
	if m.Sources != nil {
		// The sources table, which later updates of the generation read.
		if err := packFile(tw, filepath.Join(gen, sourcesName), header(sourcesName, m.Sources.Size), *m.Sources); err != nil {
			return PackInfo{}, err
		}
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
