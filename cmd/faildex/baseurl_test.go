package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeBaseURL serves the bundled corpus with --base-url and checks
// that a request with a forged Host header gets links to the base URL; a
// bad base URL, from the flag or from FAILDEX_BASE_URL, stops serve before
// it starts.
func TestServeBaseURL(t *testing.T) {
	base := startServeCmd(t, "--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix"), "--base-url", "https://faildex.example")
	req, _ := http.NewRequest(http.MethodGet, base+"/feed.atom?q=crash", nil)
	req.Host = "evil.example"
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), "evil.example") || !strings.Contains(string(b), `<link rel="alternate" type="text/html" href="https://faildex.example/incidents/`) {
		t.Errorf("feed with a forged Host: status %d\n%.800s", resp.StatusCode, b)
	}

	for _, tc := range []struct {
		env  map[string]string
		args []string
	}{
		{nil, []string{"--base-url", "faildex.example"}},
		{map[string]string{"FAILDEX_BASE_URL": "ftp://faildex.example"}, nil},
	} {
		env, _, logs := testEnv(tc.env)
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix")}, tc.args...)
		if code := Run(context.Background(), env, args); code == 0 || !strings.Contains(logs.String(), "base URL") {
			t.Errorf("%v %v: exit %d, log:\n%s", tc.env, tc.args, code, logs)
		}
	}
}
