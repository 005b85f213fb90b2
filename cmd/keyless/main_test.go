package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain points any proxy-aware HTTP client at a dead loopback port, so a
// test that accidentally aims at a real host fails at once instead of
// reaching the internet. Loopback fakes are never proxied.
func TestMain(m *testing.M) {
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		_ = os.Setenv(k, "http://127.0.0.1:9")
	}
	_ = os.Setenv("NO_PROXY", "127.0.0.1,localhost,::1")
	_ = os.Setenv("no_proxy", "127.0.0.1,localhost,::1")
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
