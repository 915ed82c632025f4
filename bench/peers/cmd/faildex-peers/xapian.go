package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// xapianScript is the Python side of the xapian peer: Xapian's C++
// library through Debian's python3-xapian (from Go it would take cgo).
//
//go:embed xapian_peer.py
var xapianScript []byte

// xapianPython is Debian's interpreter, the one python3-xapian installs
// into; $FAILDEX_XAPIAN_PYTHON overrides it.
const xapianPython = "/usr/bin/python3"

// xapian is Xapian 1.4 in a Python process of its own that this program
// drives over a pipe, one JSON request and one JSON answer a line (see
// xapian_peer.py): a server in all but the socket. Latency is from writing
// the request to reading the answer's last byte; CPU is the Python
// process's, from /proc.
type xapian struct {
	py, script, db string // how the process was started (see Clients)
	docs           int
	cmd            *exec.Cmd
	in             io.WriteCloser
	out            *bufio.Reader
	stderr         *lockedBuffer
	exited         chan error
	load           bench.PeerLoad
	version        string
}

func (x *xapian) Name() string { return "xapian" }

// Approx: the misspelled and unfinished words use the nearest equivalent
// (see xapianRequest). Xapian's English stemmer (Snowball's) differs from
// bleve's Porter on some words, but not on those of the classes: their
// totals and counts are compared.
func (x *xapian) Approx(c bench.Class) bool { return c.Reading && widened(c) == nil }

func (x *xapian) Load() bench.PeerLoad { return x.load }

func (x *xapian) Version() string { return "xapian " + x.version + " (python3-xapian)" }

func (x *xapian) CPUSeconds() (float64, error) { return bench.ProcCPUSeconds(x.cmd.Process.Pid) }

// Supports: every search class, and of those reading what people type, the
// misspelled word (Xapian's spelling correction), the unfinished word
// (FLAG_PARTIAL) and the synonyms (the OR of the set). Xapian has no
// reading of questions and no suggestions; export is left out.
func (x *xapian) Supports(c bench.Class) bool {
	_, ok := xapianRequest(c)
	return ok && c.ExportLimit == 0
}

type xapianReq struct {
	Op      string              `json:"op"`
	Text    string              `json:"text"`
	Phrase  bool                `json:"phrase"`
	Mode    string              `json:"mode"`
	Filters map[string][]string `json:"filters"`
	Offset  int                 `json:"offset"`
	Size    int                 `json:"size"`
}

func xapianRequest(c bench.Class) ([]byte, bool) {
	text, phrase := words(c)
	r := xapianReq{Op: "run", Text: text, Phrase: phrase, Filters: c.Req.Filters}
	switch set := widened(c); {
	case c.Suggest:
		return nil, false
	case set != nil: // in every class: faildex widens the word of word_2_filters too
		r.Mode, r.Text = "or", strings.Join(set, " ")
	case c.Name == "misspelled":
		r.Mode = "spell"
	case c.Name == "unfinished":
		r.Mode = "partial"
	case c.Reading:
		return nil, false
	}
	r.Offset, r.Size = page(c)
	b, _ := json.Marshal(r)
	return append(b, '\n'), true
}

// xapianDoc is a report as the Python side indexes it.
type xapianDoc struct {
	ID        string              `json:"id"`
	Title     string              `json:"title"`
	Published string              `json:"published"`
	Year      int                 `json:"year"`
	Lead      string              `json:"lead"`
	Texts     []string            `json:"texts"`
	Options   map[string][]string `json:"options"`
}

// openXapian starts the Python process and has it build the database
// anew (timed: the load), under dir.
func openXapian(ctx context.Context, dir string, seed uint64, n int, load func() ([]index.Incident, int64, error)) (p peer, err error) {
	py := xapianPython
	if v := os.Getenv("FAILDEX_XAPIAN_PYTHON"); v != "" {
		py = v
	}
	if out, err := exec.Command(py, "-c", "import xapian").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s cannot import xapian (run bench/setup-xapian.sh): %v: %s", py, err, strings.TrimSpace(string(out)))
	}
	ins, fileBytes, err := load()
	if err != nil {
		return nil, err
	}
	work := filepath.Join(dir, fmt.Sprintf("peer-xapian-s%d-n%d", seed, n))
	kl, kept := keptLoad(work, n, seed, fileBytes)
	if !kept {
		if err := os.RemoveAll(work); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(work, 0o755); err != nil {
			return nil, err
		}
	}
	script := filepath.Join(work, "xapian_peer.py")
	if err := os.WriteFile(script, xapianScript, 0o644); err != nil {
		return nil, err
	}
	db := filepath.Join(work, "db")
	x, err := startXapian(py, script, db)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()

	if kept {
		x.load = kl
	} else if err := x.build(ins, fileBytes, db); err != nil {
		return nil, err
	} else if err := keepLoad(work, n, seed, x.load); err != nil {
		return nil, err
	}
	if err := x.open(len(ins)); err != nil {
		return nil, err
	}
	return x, nil
}

// startXapian starts a Python process of the xapian peer on database db.
func startXapian(py, script, db string) (*xapian, error) {
	x := &xapian{py: py, script: script, db: db, stderr: &lockedBuffer{}}
	x.cmd = exec.Command(py, script, db)
	x.cmd.Stderr = x.stderr
	dieWithParent(x.cmd)
	var err error
	if x.in, err = x.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := x.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	x.out = bufio.NewReaderSize(stdout, 1<<20)
	if err := x.cmd.Start(); err != nil {
		return nil, err
	}
	x.exited = make(chan error, 1)
	go func() { x.exited <- x.cmd.Wait() }()
	return x, nil
}

// open has the Python side open the database for searching, and checks
// that it holds docs documents.
func (x *xapian) open(docs int) error {
	if _, err := io.WriteString(x.in, "{\"op\":\"open\"}\n"); err != nil {
		return x.failed(err)
	}
	var opened struct {
		Docs    int
		Version string
	}
	if err := x.answer(&opened); err != nil {
		return err
	}
	if opened.Docs != docs {
		return fmt.Errorf("xapian database holds %d documents, want %d", opened.Docs, docs)
	}
	x.docs, x.version = opened.Docs, opened.Version
	return nil
}

// Clients starts n more Python processes on the same database, one per
// client of the mix: a Python process answers one request at a time (the
// interpreter's lock), as a pre-forked server's workers would. CPU is the
// sum of theirs; the clients' is this process's.
func (x *xapian) Clients(ctx context.Context, n int) (*clientSet, error) {
	var procs []*xapian
	cs := &clientSet{clientCPU: selfCPU}
	cs.close = func() error {
		for _, p := range procs {
			p.Close()
		}
		return nil
	}
	for range n {
		p, err := startXapian(x.py, x.script, x.db)
		if err == nil {
			procs = append(procs, p)
			err = p.open(x.docs)
		}
		if err != nil {
			cs.close()
			return nil, err
		}
		cs.run = append(cs.run, p.Run)
	}
	cs.cpu = func() (float64, error) {
		var sum float64
		for _, p := range procs {
			s, err := p.CPUSeconds()
			if err != nil {
				return 0, err
			}
			sum += s
		}
		return sum, nil
	}
	cs.note = fmt.Sprintf("%d Python processes on the same database, one per client", n)
	return cs, nil
}

// build has the Python side build the database (timed: the load): the
// reports go down the pipe as JSON lines, the Python side decodes and
// indexes them and commits.
func (x *xapian) build(ins []index.Incident, fileBytes int64, db string) error {
	start := time.Now()
	cpu0, err := x.CPUSeconds()
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(x.in, 1<<20)
	fmt.Fprintf(w, "{\"op\":\"build\",\"n\":%d}\n", len(ins))
	enc := json.NewEncoder(w)
	for i := range ins {
		if err := enc.Encode(xapianDocOf(&ins[i])); err != nil {
			return x.failed(err)
		}
	}
	if err := w.Flush(); err != nil {
		return x.failed(err)
	}
	var built struct{ Docs int }
	if err := x.answer(&built); err != nil {
		return err
	}
	cpu1, err := x.CPUSeconds()
	if err != nil {
		return err
	}
	if built.Docs != len(ins) {
		return fmt.Errorf("xapian built %d documents, want %d", built.Docs, len(ins))
	}
	x.load = bench.PeerLoad{Engine: x.Name(), Seconds: time.Since(start).Seconds(), CPUSeconds: cpu1 - cpu0,
		Bytes: fileBytes, IndexBytes: dirSize(db), Note: "python3-xapian (1 core) from JSON lines on a pipe, spelling data included"}
	return nil
}

func xapianDocOf(in *index.Incident) xapianDoc {
	d := xapianDoc{ID: in.ID, Title: in.Title, Published: in.Published, Year: in.Year(), Lead: lead(in), Options: map[string][]string{}}
	for _, f := range sphinxFields() {
		if v := sphinxText(in, f); v != "" {
			d.Texts = append(d.Texts, v)
		}
	}
	for _, c := range index.Taxonomy {
		if o := in.Options(c.Name); len(o) > 0 {
			d.Options[c.Name] = o
		}
	}
	return d
}

// failed explains an error talking to the Python process with what it wrote
// on stderr.
func (x *xapian) failed(err error) error {
	if s := strings.TrimSpace(x.stderr.String()); s != "" {
		return fmt.Errorf("xapian: %w: %s", err, lastLines(s, 5))
	}
	return fmt.Errorf("xapian: %w", err)
}

// answerLine reads one answer line.
func (x *xapian) answerLine() ([]byte, error) {
	line, err := x.out.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			select {
			case werr := <-x.exited:
				x.exited <- werr
				err = fmt.Errorf("exited: %v", werr)
			case <-time.After(5 * time.Second):
			}
		}
		return nil, x.failed(err)
	}
	return line, nil
}

func (x *xapian) answer(v any) error {
	line, err := x.answerLine()
	if err != nil {
		return err
	}
	return json.Unmarshal(line, v)
}

func (x *xapian) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	req, ok := xapianRequest(c)
	if !ok || c.ExportLimit > 0 {
		return 0, nil, errUnsupported
	}
	if _, err := x.in.Write(req); err != nil {
		return 0, nil, x.failed(err)
	}
	line, err := x.answerLine()
	if err != nil {
		return 0, nil, err
	}
	// The answer is what a server would send; the total and counts are
	// read back for the agreement check.
	var out struct {
		Total  uint64            `json:"total"`
		Counts map[string]uint64 `json:"counts"`
	}
	if err := json.Unmarshal(line, &out); err != nil {
		return 0, nil, err
	}
	if _, err := w.Write(line); err != nil {
		return 0, nil, err
	}
	return out.Total, out.Counts, nil
}

// Close ends the Python process: its stdin closed, then SIGTERM after 10 s,
// SIGKILL after 30.
func (x *xapian) Close() error {
	if x.cmd == nil || x.cmd.Process == nil {
		return nil
	}
	x.in.Close()
	select {
	case <-x.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	stop(x.cmd, x.exited, 20*time.Second)
	return nil
}

// lockedBuffer keeps what a child process writes, safe to read meanwhile.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
