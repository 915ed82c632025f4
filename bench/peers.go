package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faildex/faildex/index"
)

// PeerOutput is what the peers program (bench/peers) prints on stdout: the
// stats of every class on every peer engine, and notes (setup, agreement
// checks) to print under the table.
type PeerOutput struct {
	Stats []Stats    `json:"stats"`
	Loads []PeerLoad `json:"loads,omitempty"`
	// Throughputs are the engines' rates on the mix (see RunMix), asked
	// for with --mix and --clients.
	Throughputs []Throughput `json:"throughput,omitempty"`
	Info        []string     `json:"info"`
}

// PeerLoad is how a peer engine took in the corpus.
type PeerLoad struct {
	Engine string `json:"engine"`
	// Seconds is the engine's own loading (its indexer or inserts, from
	// reports faildex's reader has already parsed), CPUSeconds the CPU time
	// of the process that did it; both 0 when an earlier load was reused.
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	Bytes      int64   `json:"bytes"`       // report files taken in
	IndexBytes int64   `json:"index_bytes"` // the engine's files on disk
	Note       string  `json:"note,omitempty"`
}

// MBps is the load speed in MB of report files per second.
func (l PeerLoad) MBps() float64 {
	if l.Seconds == 0 {
		return 0
	}
	return float64(l.Bytes) / 1e6 / l.Seconds
}

// PeersProgram finds the peers program: $FAILDEX_PEERS, faildex-peers next
// to this executable or on PATH, or else "go run" of bench/peers/cmd/faildex-peers
// when run from the source tree.
func PeersProgram() ([]string, error) {
	if p := os.Getenv("FAILDEX_PEERS"); p != "" {
		return []string{p}, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "faildex-peers")
		if _, err := os.Stat(p); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("faildex-peers"); err == nil {
		return []string{p}, nil
	}
	if _, err := os.Stat("bench/peers/go.mod"); err == nil {
		return []string{"go", "run", "-C", "bench/peers", "./cmd/faildex-peers"}, nil
	}
	return nil, errors.New("bench: faildex-peers not found: build it with 'cd bench/peers && go build ./cmd/faildex-peers', or set FAILDEX_PEERS")
}

// RunPeers runs the peers program on the same corpus and adds its results
// to rep, checking that engines agree with faildex on totals and counts.
// The peers also serve the throughput mix (--mix, --clients: cfg's
// MixDuration and MixClients), added to rep.Throughputs.
func RunPeers(ctx context.Context, cfg Config, rep *Report) error {
	prog, err := PeersProgram()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return err
	}
	args := append(prog[1:], "--dir", dir, "--n", strconv.Itoa(cfg.N), "--seed", strconv.FormatUint(cfg.Seed, 10),
		"--reps", strconv.Itoa(cfg.Reps))
	if cfg.Rebuild {
		args = append(args, "--rebuild")
	}
	if cfg.PeerEngines != "" {
		args = append(args, "--engines", cfg.PeerEngines)
	}
	mix, clients := cfg.MixDuration, cfg.MixClients
	if mix <= 0 {
		mix = DefaultMixDuration
	}
	if clients <= 0 {
		clients = DefaultMixClients
	}
	args = append(args, "--mix", mix.String(), "--clients", strconv.Itoa(clients))
	cmd := exec.CommandContext(ctx, prog[0], args...)
	// On cancellation, let the peers program stop its PostgreSQL cluster.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = time.Minute
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if cfg.Log != nil {
		cmd.Stderr = cfg.Log
	}
	logf(cfg.Log, "running peers: %v", append(prog[:1:1], args...))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: peers: %w", err)
	}
	var po PeerOutput
	if err := json.Unmarshal(out.Bytes(), &po); err != nil {
		return fmt.Errorf("bench: peers output: %w", err)
	}
	rep.Peers, rep.PeerLoads, rep.PeersWhen = po.Stats, po.Loads, time.Now().UTC()
	rep.Throughputs = append(rep.Throughputs, po.Throughputs...)
	rep.PeerInfo = append(po.Info, Agreement(rep.Stats, po.Stats)...)
	return nil
}

// Agreement compares each peer's totals and facet counts with faildex's,
// class by class, and describes the differences.
func Agreement(ours, peers []Stats) []string {
	byClass := map[string]Stats{}
	for _, s := range ours {
		byClass[s.Class] = s
	}
	var out []string
	for _, p := range peers {
		o, ok := byClass[p.Class]
		if !ok || p.Total == 0 && p.Counts == nil {
			continue
		}
		if p.Approx {
			if p.Total != o.Total {
				out = append(out, fmt.Sprintf("differ   %s %s: total %d, faildex %d (other matching rules, expected)", p.Engine, p.Class, p.Total, o.Total))
			} else {
				out = append(out, fmt.Sprintf("agree    %s %s: total %d (other matching rules)", p.Engine, p.Class, p.Total))
			}
			continue
		}
		if p.Total != o.Total {
			out = append(out, fmt.Sprintf("DISAGREE %s %s: total %d, faildex %d", p.Engine, p.Class, p.Total, o.Total))
			continue
		}
		if p.Counts == nil {
			out = append(out, fmt.Sprintf("agree    %s %s: total %d (no facet counts compared)", p.Engine, p.Class, p.Total))
			continue
		}
		var diffs []string
		keys := map[string]bool{}
		for k := range p.Counts {
			keys[k] = true
		}
		for k := range o.Counts {
			if peerFacet(k) {
				keys[k] = true
			}
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if p.Counts[k] != o.Counts[k] {
				diffs = append(diffs, fmt.Sprintf("%s %d vs %d", k, p.Counts[k], o.Counts[k]))
			}
		}
		if len(diffs) > 0 {
			if len(diffs) > 4 {
				diffs = append(diffs[:4], fmt.Sprintf("and %d more", len(diffs)-4))
			}
			out = append(out, fmt.Sprintf("DISAGREE %s %s: %v", p.Engine, p.Class, diffs))
			continue
		}
		out = append(out, fmt.Sprintf("agree    %s %s: total %d and %d facet counts", p.Engine, p.Class, p.Total, len(p.Counts)))
	}
	return out
}

// peerFacet reports whether a count of faildex's is one the peers count
// too: the 16 categories and the years, not the organisation facets, which
// come from faildex's gazetteer.
func peerFacet(key string) bool {
	f, _, _ := strings.Cut(key, "=")
	_, ok := index.LookupCategory(f)
	return ok || f == "year"
}

// LoadResult reads one result file.
func LoadResult(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// KeepPeers copies the peers' results of an earlier run at the same size
// into rep, noting when they were measured, and checks agreement anew.
func KeepPeers(rep, old *Report) {
	when := old.PeersWhen
	if when.IsZero() {
		when = old.When
	}
	rep.Peers, rep.PeerLoads, rep.PeersWhen = old.Peers, old.PeerLoads, when
	for _, tp := range old.Throughputs {
		if tp.Engine != "faildex" && tp.Engine != HTTPEngine {
			rep.Throughputs = append(rep.Throughputs, tp)
		}
	}
	rep.PeerInfo = []string{fmt.Sprintf("peers: results of %s, kept from an earlier run", when.Format(time.RFC3339))}
	for _, l := range old.PeerInfo {
		if !strings.HasPrefix(l, "agree") && !strings.HasPrefix(l, "differ") && !strings.HasPrefix(l, "DISAGREE") && !strings.HasPrefix(l, "peers: results of") {
			rep.PeerInfo = append(rep.PeerInfo, l)
		}
	}
	rep.PeerInfo = append(rep.PeerInfo, Agreement(rep.Stats, rep.Peers)...)
}

// LoadResults reads every result-n*.json in dir, smallest corpus first.
func LoadResults(dir string) ([]*Report, error) {
	files, err := filepath.Glob(filepath.Join(dir, "result-n*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, f := range files {
		r, err := LoadResult(f)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}
