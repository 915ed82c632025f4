package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/faildex/faildex/index"
	"github.com/schollz/progressbar/v3"
)

func runIndex(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "index", "[--index DIR] [--strict] [--organisations FILE] [--update [--delete-missing]] [PATH ...]")
	dir := indexDirFlag(env, fs)
	strict := fs.Bool("strict", false, "fail the build if any report is rejected")
	update := fs.Bool("update", false, "apply only what changed in the reports under PATHs to the existing index: add new incidents, replace changed ones (files with the same size and time are not read)")
	deleteMissing := fs.Bool("delete-missing", false, "with --update: delete the incidents whose file under PATHs no longer holds them")
	var orgFiles stringList
	fs.Var(&orgFiles, "organisations", "gazetteer of organisations added to the shipped one (`FILE`, repeatable; one organisation a line, \"Name: alias, alias\"; see the README)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	gaz, err := gazetteer(orgFiles)
	if err != nil {
		return err
	}
	if *deleteMissing && !*update {
		return fmt.Errorf("%w: --delete-missing goes with --update", errUsage)
	}
	if *update {
		if len(paths) == 0 {
			return fmt.Errorf("%w: --update needs the PATHs of the reports to compare with the index", errUsage)
		}
		_, err := updateIndex(ctx, env, *dir, paths, index.UpdateOptions{Strict: *strict, DeleteMissing: *deleteMissing, Organisations: gaz})
		return err
	}
	return buildDefault(ctx, env, *dir, paths, *strict, gaz)
}

// buildIndex builds dir from paths with the shipped organisation
// gazetteer, logging problems and a summary.
func buildIndex(ctx context.Context, env *Env, dir string, paths []string, strict bool) (index.BuildStats, error) {
	return buildIndexOrgs(ctx, env, dir, paths, strict, defaultGazetteer())
}

// buildIndexOrgs is buildIndex with the given organisation gazetteer.
func buildIndexOrgs(ctx context.Context, env *Env, dir string, paths []string, strict bool, gaz *index.Gazetteer) (index.BuildStats, error) {
	log := env.Log
	var bar *progressbar.ProgressBar
	if env.Terminal {
		bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription("indexing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("reports"),
			progressbar.OptionClearOnFinish())
	}
	opts := index.BuildOptions{
		Strict:        strict,
		Organisations: gaz,
		Problem: func(p index.Problem) {
			switch {
			case p.Skipped, p.Warning:
				log.Warn().Msg(p.Error())
			default:
				log.Error().Msg("rejected " + p.Error())
			}
		},
		Duplicate: func(id, first, second string) {
			log.Warn().Str("id", id).Str("first", first).Str("second", second).Msg("duplicate id; the later report wins")
		},
		Progress: func(n int, text int64) {
			if bar != nil {
				bar.Set(n)
			} else {
				log.Info().Int("indexed", n).Int64("text_bytes", text).Msg("progress")
			}
		},
	}
	st, err := index.Build(ctx, dir, paths, opts)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; the previous index is kept")
		}
		return st, fmt.Errorf("%d indexed, %d rejected: %w", st.Indexed, st.Rejected, err)
	}
	mbps := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		mbps = float64(st.TextBytes) / 1e6 / s
	}
	summary := fmt.Sprintf("%d indexed, %d rejected", st.Indexed, st.Rejected)
	if st.Skipped > 0 {
		summary += fmt.Sprintf(", %d skipped (symbolic links or files that are not regular; see the warnings)", st.Skipped)
	}
	log.Info().Int("indexed", st.Indexed).Int("rejected", st.Rejected).Int("warnings", st.Warnings).
		Int("skipped", st.Skipped).Int("duplicates", st.Duplicates).Dur("took", st.Elapsed).Float64("mb_per_s", mbps).
		Str("index", st.Gen).Msg(summary)
	return st, nil
}

func runShow(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "show", "[--index DIR] ID")
	dir := indexDirFlag(env, fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want exactly one incident id", errUsage)
	}
	ix, err := index.Open(*dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	in, err := ix.Get(ctx, pos[0])
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(in)
}

func runExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "export", "[--index DIR]")
	dir := indexDirFlag(env, fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	ix, err := index.Open(*dir)
	if err != nil {
		return err
	}
	defer ix.Close()
	n, err := ix.ExportJSONL(ctx, env.Stdout)
	if err != nil {
		return err
	}
	env.Log.Info().Int("exported", n).Msg("export done")
	return nil
}
