package index

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
)

// buildBundled builds the bundled corpus into a new index directory.
func buildBundled(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "index")
	if _, err := Build(context.Background(), dir, []string{indextest.DataDir()}, BuildOptions{}); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func packBytes(tb testing.TB, dir string) ([]byte, PackInfo) {
	tb.Helper()
	var buf bytes.Buffer
	info, err := Pack(dir, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(buf.Len()) != info.Size {
		tb.Fatalf("Pack reports %d bytes, wrote %d", info.Size, buf.Len())
	}
	return buf.Bytes(), info
}

func TestPackRoundTrip(t *testing.T) {
	src := buildBundled(t)
	art, info := packBytes(t, src)
	again, _ := packBytes(t, src)
	if !bytes.Equal(art, again) {
		t.Fatal("packing the same generation twice gave different bytes")
	}

	dst := filepath.Join(t.TempDir(), "replica")
	got, err := Unpack(dst, bytes.NewReader(art), info.Sum, int64(len(art)))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum != info.Sum || got.Size != info.Size || got.Count != info.Count || got.Files != info.Files {
		t.Errorf("Unpack = %+v, Pack = %+v", got, info)
	}
	if s := CurrentArtifact(dst); s != info.Sum {
		t.Errorf("CurrentArtifact = %q, want %q", s, info.Sum)
	}
	ix, err := Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ix.DocCount()
	ix.Close()
	if n != info.Count || n == 0 {
		t.Errorf("the unpacked index holds %d documents, want %d", n, info.Count)
	}
	// The replica's generation packs to the very same artifact.
	if back, _ := packBytes(t, dst); !bytes.Equal(back, art) {
		t.Error("repacking the unpacked generation changed its bytes")
	}
}

// TestUnpackRefuses damages an artifact in the ways a download or a disk
// can and checks that each is refused, leaving the generation serving as
// it was and no temporary directory behind.
func TestUnpackRefuses(t *testing.T) {
	old, oldInfo := packBytes(t, buildBundled(t))
	art, info := packBytes(t, buildBundled(t))
	if oldInfo.Sum == info.Sum {
		t.Fatal("two builds packed to the same artifact")
	}
	flip := func(at int) []byte {
		b := bytes.Clone(art)
		b[at] ^= 0x20
		return b
	}
	// Offsets: the first tar header, the manifest, the middle of the bleve
	// files, the trailer.
	manifestAt := bytes.Index(art, []byte(`"files"`))
	tests := []struct {
		name  string
		data  []byte
		sum   string
		limit int64
		want  error
	}{
		{"byte in a tar header", flip(10), info.Sum, 0, ErrDamaged},
		{"byte in the manifest", flip(manifestAt), info.Sum, 0, ErrDamaged},
		{"byte in a bleve file", flip(len(art) / 2), info.Sum, 0, ErrDamaged},
		{"byte in the trailer", flip(len(art) - 10), info.Sum, 0, ErrDamaged},
		{"truncated to half", art[:len(art)/2], info.Sum, 0, ErrDamaged},
		{"last byte missing", art[:len(art)-1], info.Sum, 0, ErrDamaged},
		{"one byte too many", append(bytes.Clone(art), 0), info.Sum, 0, ErrDamaged},
		{"another checksum", art, oldInfo.Sum, 0, ErrDamaged},
		{"larger than allowed", art, info.Sum, int64(len(art)) - 1, ErrTooLarge},
		{"empty", nil, info.Sum, 0, ErrDamaged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "replica")
			if _, err := Unpack(dir, bytes.NewReader(old), oldInfo.Sum, int64(len(old))); err != nil {
				t.Fatal(err)
			}
			limit := tt.limit
			if limit == 0 {
				limit = int64(len(art)) + 1<<20
			}
			_, err := Unpack(dir, bytes.NewReader(tt.data), tt.sum, limit)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unpack: %v, want %v", err, tt.want)
			}
			if s := CurrentArtifact(dir); s != oldInfo.Sum {
				t.Errorf("current artifact %q, want the previous %q", s, oldInfo.Sum)
			}
			ix, err := Open(dir)
			if err != nil {
				t.Fatalf("the previous generation no longer opens: %v", err)
			}
			ix.Close()
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".build-") {
					t.Errorf("%s left behind", e.Name())
				}
			}
		})
	}
}

func TestPackFile(t *testing.T) {
	src := buildBundled(t)
	out := t.TempDir()
	info, err := PackFile(src, out+"/")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(out, "faildex-"+info.Sum+".tar"); info.Path != want || SumInName(info.Path) != info.Sum {
		t.Errorf("artifact at %s, want %s", info.Path, want)
	}
	sum, name, err := ParseChecksumFile(readBytes(t, filepath.Join(out, ArtifactPointer)))
	if err != nil || sum != info.Sum || name != filepath.Base(info.Path) {
		t.Errorf("latest.sha256 = %s %s (%v), want %s %s", sum, name, err, info.Sum, filepath.Base(info.Path))
	}

	file := filepath.Join(out, "sub", "index.tar")
	info2, err := PackFile(src, file)
	if err != nil {
		t.Fatal(err)
	}
	if info2.Sum != info.Sum || info2.Path != file {
		t.Errorf("PackFile(FILE) = %+v", info2)
	}
	sum, name, err = ParseChecksumFile(readBytes(t, file+".sha256"))
	if err != nil || sum != info.Sum || name != "index.tar" {
		t.Errorf("index.tar.sha256 = %s %s (%v)", sum, name, err)
	}
}

func TestParseChecksumFile(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		in, sum, name string
		ok            bool
	}{
		{sum + "  faildex-x.tar\n", sum, "faildex-x.tar", true},
		{strings.ToUpper(sum) + " *x.tar", sum, "x.tar", true},
		{sum + "\n", sum, "", true},
		{"", "", "", false},
		{sum[:63] + "  x.tar", "", "", false},
		{strings.Repeat("zz", 32) + "  x.tar", "", "", false},
		{sum + "  x.tar extra", "", "", false},
	} {
		s, n, err := ParseChecksumFile([]byte(tt.in))
		if (err == nil) != tt.ok || s != tt.sum || n != tt.name {
			t.Errorf("ParseChecksumFile(%q) = %q, %q, %v", tt.in, s, n, err)
		}
	}
}
