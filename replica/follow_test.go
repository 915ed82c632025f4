package replica

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// publish builds the bundled corpus and packs it into the artifact
// directory out, as a writer does.
func publish(tb testing.TB, out string) index.PackInfo {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "writer")
	if _, err := index.Build(context.Background(), dir, []string{indextest.DataDir()}, index.BuildOptions{}); err != nil {
		tb.Fatal(err)
	}
	info, err := index.PackFile(dir, out+"/")
	if err != nil {
		tb.Fatal(err)
	}
	return info
}

// fileServer serves dir like a static file server with content ETags (as
// object stores give) and records the requests: "GET /path status".
type fileServer struct {
	dir string
	// truncate, when set, makes artifacts end after half their bytes
	// while announcing their full length.
	truncate atomic.Bool
	mu       sync.Mutex
	log      []string
}

func (fs *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := os.ReadFile(filepath.Join(fs.dir, filepath.Base(r.URL.Path)))
	status := http.StatusOK
	switch {
	case err != nil:
		status = http.StatusNotFound
		http.NotFound(w, r)
	default:
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256(b))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			status = http.StatusNotModified
			w.WriteHeader(status)
			break
		}
		if fs.truncate.Load() && strings.HasSuffix(r.URL.Path, ".tar") {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b[:len(b)/2])
			break
		}
		w.Write(b)
	}
	fs.mu.Lock()
	fs.log = append(fs.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, status))
	fs.mu.Unlock()
}

func (fs *fileServer) requests() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := fs.log
	fs.log = nil
	return out
}

func TestFollowHTTP(t *testing.T) {
	out := t.TempDir()
	first := publish(t, out)
	fs := &fileServer{dir: out}
	ts := httptest.NewServer(fs)
	defer ts.Close()
	ctx := context.Background()
	f := &Follower{Dir: filepath.Join(t.TempDir(), "replica"), Source: ts.URL + "/" + index.ArtifactPointer}

	res, err := f.Check(ctx)
	if err != nil || res.Installed == nil || res.Sum != first.Sum {
		t.Fatalf("first check: %+v, %v", res, err)
	}
	f.SetCurrent(index.CurrentArtifact(f.Dir))
	if got := fs.requests(); len(got) != 2 || !strings.HasSuffix(got[1], ".tar 200") {
		t.Errorf("first check's requests: %q", got)
	}

	// Nothing new: a conditional GET of the checksum file, answered 304.
	res, err = f.Check(ctx)
	if err != nil || !res.NotMod || res.Installed != nil {
		t.Fatalf("second check: %+v, %v", res, err)
	}
	if got := fs.requests(); len(got) != 1 || got[0] != "GET /latest.sha256 304" {
		t.Errorf("second check's requests: %q, want one 304", got)
	}

	// A new artifact is installed.
	second := publish(t, out)
	res, err = f.Check(ctx)
	if err != nil || res.Installed == nil || res.Sum != second.Sum || index.CurrentArtifact(f.Dir) != second.Sum {
		t.Fatalf("check after publishing: %+v, %v", res, err)
	}
	f.SetCurrent(second.Sum)

	// A damaged artifact, then one cut short in transit, are refused and
	// the current generation stays.
	third := publish(t, out)
	b, _ := os.ReadFile(third.Path)
	b[len(b)/3] ^= 1
	os.WriteFile(third.Path, b, 0o644)
	if _, err := f.Check(ctx); !errors.Is(err, index.ErrDamaged) {
		t.Errorf("damaged artifact: %v, want ErrDamaged", err)
	}
	if s := index.CurrentArtifact(f.Dir); s != second.Sum {
		t.Errorf("after a damaged artifact, current is %s, want %s", s, second.Sum)
	}
	fourth := publish(t, out)
	fs.truncate.Store(true)
	if _, err := f.Check(ctx); !errors.Is(err, index.ErrDamaged) {
		t.Errorf("truncated download: %v, want ErrDamaged", err)
	}
	fs.truncate.Store(false)
	if s := index.CurrentArtifact(f.Dir); s != second.Sum {
		t.Errorf("after a truncated download, current is %s, want %s", s, second.Sum)
	}
	// Refusals leave no validators behind: the next check retries in full.
	if res, err := f.Check(ctx); err != nil || res.Installed == nil || res.Sum != fourth.Sum {
		t.Errorf("retry after refusals: %+v, %v", res, err)
	}
	ix, err := index.Open(f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
}

func TestFollowLocalSidecar(t *testing.T) {
	out := t.TempDir()
	info := publish(t, out)
	file := filepath.Join(out, "index.tar")
	if err := os.Rename(info.Path, file); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file+".sha256", []byte(info.Sum+"  index.tar\n"), 0o644)
	f := &Follower{Dir: filepath.Join(t.TempDir(), "replica"), Source: file}
	res, err := f.Check(context.Background())
	if err != nil || res.Installed == nil {
		t.Fatalf("%+v, %v", res, err)
	}
	f.SetCurrent(res.Sum)
	if res, err := f.Check(context.Background()); err != nil || !res.Unchanged {
		t.Errorf("second check: %+v, %v", res, err)
	}
	// Too large for the limit.
	g := &Follower{Dir: filepath.Join(t.TempDir(), "replica"), Source: file, MaxBytes: info.Size - 1}
	if _, err := g.Check(context.Background()); !errors.Is(err, index.ErrTooLarge) {
		t.Errorf("over the limit: %v, want ErrTooLarge", err)
	}
}

func TestResolve(t *testing.T) {
	for _, tt := range []struct{ sumLoc, name, want string }{
		{"http://127.0.0.1:1/a/latest.sha256", "faildex-x.tar", "http://127.0.0.1:1/a/faildex-x.tar"},
		{"/srv/a/latest.sha256", "faildex-x.tar", "/srv/a/faildex-x.tar"},
		{"http://127.0.0.1:1/a/latest.sha256", "../x.tar", ""},
		{"http://127.0.0.1:1/a/latest.sha256", "/etc/x.tar", ""},
		{"http://127.0.0.1:1/a/latest.sha256", "http://elsewhere/x.tar", ""},
	} {
		got, err := resolve(tt.sumLoc, tt.name)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("resolve(%q, %q) = %q, %v", tt.sumLoc, tt.name, got, err)
		}
	}
}
