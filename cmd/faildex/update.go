package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/faildex/faildex/index"
)

// updateIndex applies to dir what changed in the reports under paths,
// logging problems and a summary.
func updateIndex(ctx context.Context, env *Env, dir string, paths []string, opts index.UpdateOptions) (index.UpdateStats, error) {
	log := env.Log
	opts.Problem = func(p index.Problem) {
		switch {
		case p.Skipped, p.Warning:
			log.Warn().Msg(p.Error())
		default:
			log.Error().Msg("rejected " + p.Error())
		}
	}
	opts.Duplicate = func(id, first, second string) {
		log.Warn().Str("id", id).Str("first", first).Str("second", second).Msg("duplicate id; the later report wins")
	}
	st, err := index.Update(ctx, dir, paths, opts)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; the index is unchanged")
		}
		return st, fmt.Errorf("update of %s: %w", dir, err)
	}
	summary := fmt.Sprintf("%d added, %d replaced, %d deleted, %d unchanged; %d files read, %d not (unchanged)",
		st.Added, st.Replaced, st.Deleted, st.Unchanged, st.FilesRead, st.FilesUnchanged)
	if st.Missing > 0 {
		summary += fmt.Sprintf("; %d no longer in their file, kept (--delete-missing deletes them)", st.Missing)
	}
	if st.Rejected > 0 {
		summary += fmt.Sprintf("; %d rejected", st.Rejected)
	}
	if !st.Changed() {
		summary = "nothing changed: " + summary
	}
	log.Info().Int("added", st.Added).Int("replaced", st.Replaced).Int("deleted", st.Deleted).Int("unchanged", st.Unchanged).
		Int("missing", st.Missing).Int("rejected", st.Rejected).Uint64("incidents", st.Count).Dur("took", st.Elapsed).
		Str("index", st.Gen).Msg(summary)
	return st, nil
}

func runDelete(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "delete", "[--index DIR] ID ...")
	dir := indexDirFlag(env, fs)
	ids, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: name the incident ids to delete", errUsage)
	}
	changes := make([]index.Change, len(ids))
	for i, id := range ids {
		changes[i] = index.Change{Delete: id}
	}
	out, gen, err := index.Apply(ctx, *dir, changes, nil)
	if err != nil {
		return fmt.Errorf("delete from %s: %w", *dir, err)
	}
	var missing []string
	for i, id := range ids {
		if out[i] == index.NotFound {
			missing = append(missing, id)
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: %s\n", id, out[i])
	}
	if gen != "" {
		env.Log.Info().Str("index", gen).Int("deleted", len(ids)-len(missing)).Msg("deleted")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no incident with the id %s", index.ErrNotFound, strings.Join(missing, ", "))
	}
	return nil
}
