package search

import "testing"

func TestDamerau(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3},
		{"crowdstrike", "crowdstrike", 0},
		{"captial", "capital", 1},        // transposition
		{"heartbleeed", "heartbleed", 1}, // deletion
		{"crowdstirke", "crowdstrike", 1},
		{"knihgt", "knight", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment, not unrestricted
		{"ｃａｔ", "cat", 3},
		{"éte", "ete", 1},
	} {
		if got := damerau(tc.a, tc.b); got != tc.want {
			t.Errorf("damerau(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTranspositions(t *testing.T) {
	got := transpositions("abca")
	want := []string{"baca", "acba", "abac"}
	if len(got) != len(want) {
		t.Fatalf("transpositions = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("transpositions = %v, want %v", got, want)
		}
	}
}
