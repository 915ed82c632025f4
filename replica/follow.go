// Package replica installs index artifacts published by a writer: it
// reads a checksum file from a local path or over plain HTTP (so that any
// static file server or object store can publish), downloads the artifact
// it names, and has the index package verify and install it.
package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faildex/faildex/index"
)

// Defaults of a Follower's bounds.
const (
	DefaultMaxBytes = 32 << 30
	DefaultTimeout  = 10 * time.Minute
	// maxChecksumBytes bounds a checksum file.
	maxChecksumBytes = 4 << 10
	// checkTimeout bounds the read of a checksum file.
	checkTimeout = 30 * time.Second
	// revalidate is how long an ETag is trusted: then one unconditional
	// GET, in case a server derives ETags from a modification time in
	// seconds and the file changed within the second it was last read.
	revalidate = time.Minute
)

// Follower installs into an index directory the artifacts a source
// publishes. The source is the location (a local path or an http(s) URL)
// of either a checksum file ("*.sha256": an artifact directory's
// latest.sha256, or an artifact's sidecar), whose line names the artifact
// relative to it, or of an artifact, whose checksum is read from the
// sidecar beside it (SOURCE.sha256) or from its name (faildex-<sum>.tar).
type Follower struct {
	Dir    string // the index directory
	Source string
	// MaxBytes bounds an artifact's size and Timeout the time to fetch
	// and install it (defaults DefaultMaxBytes, DefaultTimeout).
	MaxBytes int64
	Timeout  time.Duration
	Client   *http.Client // default: one with connection and header timeouts

	mu sync.Mutex
	// current is the checksum of the artifact serving; Check installs
	// only artifacts with another checksum.
	current string
	// etag is the ETag of the checksum file when it last named current,
	// read at etagAt; it makes the next checks conditional GETs.
	etag, validFor string
	etagAt         time.Time
}

// Result says what a Check did.
type Result struct {
	Sum       string // the checksum the source publishes
	Unchanged bool   // the source publishes the artifact already current
	NotMod    bool   // the server answered 304 Not Modified
	Installed *index.UnpackInfo
}

// SetCurrent records the checksum of the artifact being served (the one
// Check installed, once it opens; or the one found on disk at start).
func (f *Follower) SetCurrent(sum string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.current = sum
}

// Current returns the checksum recorded by SetCurrent.
func (f *Follower) Current() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current
}

// Check reads the source's checksum and, when it names an artifact other
// than the current one, downloads it, verifies it and installs it as the
// index directory's current generation. A refused artifact returns an
// error wrapping index.ErrDamaged or index.ErrTooLarge and installs
// nothing; the caller keeps serving what it serves. Check does not change
// the current checksum: the caller calls SetCurrent once the new
// generation serves.
func (f *Follower) Check(ctx context.Context) (Result, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sumLoc, artLoc := f.locations()
	sum, name, v, notMod, err := f.readChecksum(ctx, sumLoc)
	if err != nil {
		if artLoc != "" && errors.Is(err, os.ErrNotExist) {
			// No sidecar: an artifact's name may carry its checksum.
			sum = index.SumInName(artLoc)
		}
		if sum == "" {
			return Result{}, err
		}
	}
	cur := f.Current()
	if notMod {
		return Result{Sum: cur, Unchanged: true, NotMod: true}, nil
	}
	if sum == cur {
		f.remember(v, sum)
		return Result{Sum: sum, Unchanged: true}, nil
	}
	if artLoc == "" {
		if name == "" {
			return Result{Sum: sum}, fmt.Errorf("%s names no artifact", sumLoc)
		}
		if artLoc, err = resolve(sumLoc, name); err != nil {
			return Result{Sum: sum}, err
		}
	}
	info, err := f.install(ctx, artLoc, sum)
	if err != nil {
		return Result{Sum: sum}, fmt.Errorf("artifact %s refused: %w", artLoc, err)
	}
	f.remember(v, sum)
	return Result{Sum: sum, Installed: &info}, nil
}

// locations returns where the checksum is read and, when the source is an
// artifact, where the artifact is.
func (f *Follower) locations() (sumLoc, artLoc string) {
	if strings.HasSuffix(f.Source, ".sha256") {
		return f.Source, ""
	}
	return f.Source + ".sha256", f.Source
}

// validators are a checksum file's ETag and when it was read.
type validators struct {
	etag string
	at   time.Time
}

func (f *Follower) remember(v validators, sum string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v.at.IsZero() {
		return // a 304 keeps the validators it confirmed
	}
	f.etag, f.etagAt, f.validFor = v.etag, v.at, sum
}

// readChecksum reads the checksum file at loc. Over HTTP it sends the
// validators recorded for the current artifact, and reports notMod when
// the server answers 304.
func (f *Follower) readChecksum(ctx context.Context, loc string) (sum, name string, v validators, notMod bool, err error) {
	var b []byte
	if isURL(loc) {
		ctx, cancel := context.WithTimeout(ctx, checkTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
		if err != nil {
			return "", "", v, false, err
		}
		f.mu.Lock()
		if f.etag != "" && f.validFor == f.current && time.Since(f.etagAt) < revalidate {
			req.Header.Set("If-None-Match", f.etag)
		}
		f.mu.Unlock()
		resp, err := f.client().Do(req)
		if err != nil {
			return "", "", v, false, err
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusNotModified:
			return "", "", v, true, nil
		case http.StatusNotFound:
			return "", "", v, false, fmt.Errorf("%s: %w", loc, os.ErrNotExist)
		default:
			return "", "", v, false, fmt.Errorf("%s: %s", loc, resp.Status)
		}
		v = validators{etag: resp.Header.Get("ETag"), at: time.Now()}
		if b, err = io.ReadAll(io.LimitReader(resp.Body, maxChecksumBytes)); err != nil {
			return "", "", v, false, err
		}
	} else {
		fh, err := os.Open(loc)
		if err != nil {
			return "", "", v, false, err
		}
		b, err = io.ReadAll(io.LimitReader(fh, maxChecksumBytes))
		fh.Close()
		if err != nil {
			return "", "", v, false, err
		}
	}
	sum, name, err = index.ParseChecksumFile(b)
	if err != nil {
		return "", "", v, false, fmt.Errorf("%s: %w", loc, err)
	}
	return sum, name, v, false, nil
}

// install downloads the artifact at loc and has index.Unpack verify and
// install it.
func (f *Follower) install(ctx context.Context, loc, sum string) (index.UnpackInfo, error) {
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	var body io.ReadCloser
	if isURL(loc) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
		if err != nil {
			return index.UnpackInfo{}, err
		}
		resp, err := f.client().Do(req)
		if err != nil {
			return index.UnpackInfo{}, err
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return index.UnpackInfo{}, fmt.Errorf("%s", resp.Status)
		}
		if resp.ContentLength > limit {
			resp.Body.Close()
			return index.UnpackInfo{}, fmt.Errorf("%w: %d bytes, at most %d allowed", index.ErrTooLarge, resp.ContentLength, limit)
		}
		body = resp.Body
	} else {
		fh, err := os.Open(loc)
		if err != nil {
			return index.UnpackInfo{}, err
		}
		body = fh
	}
	defer body.Close()
	// Unpack reads until the artifact ends; a cancelled context must stop
	// a local read too.
	stop := context.AfterFunc(ctx, func() { body.Close() })
	defer stop()
	info, err := index.Unpack(f.Dir, body, sum, limit)
	if err != nil && ctx.Err() != nil {
		return info, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return info, err
}

func (f *Follower) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return defaultClient
}

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 30 * time.Second,
	MaxIdleConnsPerHost:   2,
	IdleConnTimeout:       90 * time.Second,
}}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// resolve returns the location of the artifact a checksum file at sumLoc
// names: a bare file name, beside the checksum file.
func resolve(sumLoc, name string) (string, error) {
	if name != path.Base(name) || name == "." || name == ".." || strings.ContainsAny(name, `\`) {
		return "", fmt.Errorf("%s: artifact name %q is not a file name beside it", sumLoc, name)
	}
	if !isURL(sumLoc) {
		return filepath.Join(filepath.Dir(sumLoc), name), nil
	}
	u, err := url.Parse(sumLoc)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(url.PathEscape(name))
	if err != nil {
		return "", err
	}
	return u.ResolveReference(ref).String(), nil
}

// Validate checks that a source is a local path or an http(s) URL.
func Validate(source string) error {
	if source == "" {
		return errors.New("empty source")
	}
	if strings.Contains(source, "://") && !isURL(source) {
		return fmt.Errorf("%q: a source is a local path or an http(s):// URL", source)
	}
	if isURL(source) {
		u, err := url.Parse(source)
		if err != nil || u.Host == "" {
			return fmt.Errorf("%q is not a URL", source)
		}
	}
	return nil
}
