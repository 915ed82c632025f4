package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
)

// bundledCorpus writes the corpus embedded in the binary (package data) to
// a new temporary directory, so that index and serve can read it from
// anywhere, not only from a checkout. cleanup removes the directory.
func bundledCorpus() (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", "faildex-bundled-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	names, err := fs.Glob(data.FS, "*.txt")
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("the binary holds no bundled reports")
	}
	for _, name := range names {
		if err != nil {
			break
		}
		var b []byte
		if b, err = fs.ReadFile(data.FS, name); err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("bundled corpus: %w", err)
	}
	return dir, cleanup, nil
}

// buildDefault builds dir from paths, or from the bundled corpus when
// paths is empty, tagging organisations with gaz.
func buildDefault(ctx context.Context, env *Env, dir string, paths []string, strict bool, gaz *index.Gazetteer) error {
	if len(paths) == 0 {
		src, cleanup, err := bundledCorpus()
		if err != nil {
			return err
		}
		defer cleanup()
		env.Log.Info().Str("index", dir).Msg("indexing the bundled corpus")
		paths = []string{src}
	}
	_, err := buildIndexOrgs(ctx, env, dir, paths, strict, gaz)
	return err
}
