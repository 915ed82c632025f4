// Command faildex indexes software-failure incident reports and serves a
// faceted search over them. Its subcommands, with their main flags:
//
//	faildex index  [--index DIR] [--strict] [--organisations FILE] [PATH ...]
//	    build the index from report files (default: the bundled corpus, embedded in the binary)
//	faildex serve  [--index DIR] [--addr HOST:PORT] [--base-url URL] [--allow-host HOST]
//	               [--cors-origin ORIGIN] [--frame-ancestors SRC]
//	               [--admin-token TOKEN] [--timeout D] [--dev] [--drain D] [--drain-timeout D]
//	               [--max-searches N] [--max-conns N] [--metrics-addr ADDR] [--synonyms FILE]
//	               [--index-from SOURCE [--poll D]] [PATH ...]
//	    serve the search UI and API, building the index from PATHs first if there is none,
//	    or, with --index-from, following the artifacts a writer publishes
//	faildex search [--index DIR] [--json] [--facets] QUERY [category=option ...] [from=|to=|sort=|page=|size=VALUE ...]
//	    search the index from the command line
//	faildex show   [--index DIR] ID
//	    print one incident as JSON
//	faildex export [--index DIR]
//	    write every incident as JSON Lines
//	faildex pack   [--index DIR] --out FILE|DIR/
//	    write the current generation as one artifact file with its SHA-256
//	faildex unpack --from SOURCE [--index DIR] [--fetch-max-bytes N] [--fetch-timeout D]
//	    install an artifact from a path or http(s) URL after verifying it
//	faildex gen    --out DIR [--n N] [--seed S] [--corpus DIR] [--workers W]
//	    write a synthetic corpus learnt from real reports
//	faildex bench  [--n N[,N...]] [--out DIR] [--reps R] [--seed S] [--corpus DIR] [--peers] [--rebuild] [--svg FILE]
//	    measure build and query speed on synthetic corpora
//	faildex load   --url URL [--clients N] [--duration D] [--pathological F] [--reload-every D]
//	               [--admin-token TOKEN] [--pid PID] [--seed S] [--json]
//	    load-test a server running on this machine
//	faildex eval   [--judged FILE] [--url URL | --index DIR] [--size N] [--json]
//	    measure ranking quality (MRR, nDCG, recall) on a judged query set
//
// --index defaults to $FAILDEX_INDEX, else faildex.bleve; --admin-token
// defaults to $FAILDEX_ADMIN_TOKEN; --base-url to $FAILDEX_BASE_URL. Exit status: 0 on success, 1 on
// failure, 2 on wrong arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// command is one subcommand. run receives the arguments after the
// subcommand's name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// Env is what every subcommand may use: standard streams and a logger.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Log    zerolog.Logger
	// Getenv reads the environment (os.Getenv outside tests).
	Getenv func(string) string
	// Terminal reports whether Stderr is a terminal.
	Terminal bool
	// OnListen, if set, is called with the server's URL once it listens.
	OnListen func(url string)
}

// commands are the subcommands, in the order usage lists them: building
// and serving the index first, then reading it, then the tools that
// measure it.
var commands = []command{
	{"index", "build the index from report files (text pages, CSV, JSON Lines, JSON), or --update it with what changed", runIndex},
	{"delete", "delete incidents from the index by id", runDelete},
	{"serve", "serve the search UI and API (builds the index first if there is none)", runServe},
	{"search", "search the index from the command line (a table, or the API's JSON with --json)", runSearch},
	{"show", "print one incident as JSON", runShow},
	{"export", "write every incident as JSON Lines", runExport},
	{"pack", "write the current index generation as one verified artifact file", runPack},
	{"unpack", "install an index artifact from a path or URL, verified", runUnpack},
	{"gen", "write a synthetic corpus of reports (for benchmarks)", runGen},
	{"bench", "measure build and query speed on a synthetic corpus", runBench},
	{"load", "load-test a running faildex server on this machine (loopback only)", runLoad},
	{"eval", "measure ranking quality on a judged query set (MRR, nDCG, recall)", runEval},
}

// defaultDataDir is the bundled corpus's directory in a checkout, which gen
// and bench learn from. index and serve read the copy embedded in the
// binary (package data) when given no paths.
const defaultDataDir = "data"

// errUsage marks an error caused by wrong arguments (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	term := isatty.IsTerminal(os.Stderr.Fd())
	var out io.Writer = os.Stderr
	if term {
		out = zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05"}
	}
	env := &Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Log:      zerolog.New(out).With().Timestamp().Logger(),
		Getenv:   os.Getenv,
		Terminal: term,
	}
	os.Exit(Run(ctx, env, os.Args[1:]))
}

// Run runs the subcommand named by args[0] and returns the exit status.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(env.Stderr, "faildex %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(env.Stderr, "faildex %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "faildex: unknown command %q\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: faildex <command> [flags] [args]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'faildex <command> -h' for a command's flags.")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(env *Env, name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: faildex %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses flags, allowing them after positional arguments too
// ("faildex search wake word --json").
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNoArgs parses flags for a command that takes no positional
// arguments, refusing any.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, pos)
	}
	return nil
}

// indexDirFlag adds --index with its default from FAILDEX_INDEX.
func indexDirFlag(env *Env, fs *flag.FlagSet) *string {
	def := env.Getenv("FAILDEX_INDEX")
	if def == "" {
		def = "faildex.bleve"
	}
	return fs.String("index", def, "index directory (env FAILDEX_INDEX)")
}
