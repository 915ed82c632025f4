package index

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

// articleIDsRegexp is ArticleIDs as first written: every match of
// articleList by the regexp engine.
func articleIDsRegexp(texts ...string) []int64 {
	ids := []int64{}
	seen := map[int64]bool{}
	for _, t := range texts {
		for _, m := range articleList.FindAllStringSubmatch(t, -1) {
			for _, d := range digits.FindAllString(m[1], -1) {
				var n int64
				for _, c := range d {
					n = n*10 + int64(c-'0')
				}
				if len(d) > 18 || seen[n] {
					continue
				}
				seen[n] = true
				ids = append(ids, n)
			}
		}
	}
	return ids
}

func TestArticleIDsMatchesRegexp(t *testing.T) {
	var texts []string
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled reports (%v)", err)
	}
	for _, f := range files {
		texts = append(texts, string(readBytes(t, f)))
	}
	pieces := []string{"[", "]", "[[", "1", "42", "Article", " ", ",", ", ", "Article 7", "x", "[71241]", "[1, 2]", "\n", "[Article 3, 4]"}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for n := r.IntN(15); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	for _, tx := range texts {
		if diff := cmp.Diff(articleIDsRegexp(tx), ArticleIDs(tx)); diff != "" {
			t.Fatalf("%q (-regexp +ArticleIDs):\n%s", Truncate(tx, 100), diff)
		}
	}
}
