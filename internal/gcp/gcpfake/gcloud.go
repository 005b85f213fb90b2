package gcpfake

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Gcloud finds the gcloud CLI for a test that drives it against the fake,
// and skips the test where gcloud is not installed or under -short (it is
// slow to start).
func Gcloud(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("gcloud")
	if err != nil {
		t.Skip("gcloud is not installed")
	}
	if testing.Short() {
		t.Skip("gcloud is slow to start")
	}
	return path
}

// GcloudEnv is what keeps gcloud off the network and out of the user's
// home: its config directory under dir, no prompts, no usage reports, no
// update checks, no metadata server probe.
func GcloudEnv(dir string) map[string]string {
	return map[string]string{
		"CLOUDSDK_CONFIG":                                 filepath.Join(dir, "gcloud"),
		"CLOUDSDK_CORE_DISABLE_PROMPTS":                   "1",
		"CLOUDSDK_CORE_DISABLE_USAGE_REPORTING":           "true",
		"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
		"CLOUDSDK_CORE_CHECK_GCE_METADATA":                "false",
	}
}
