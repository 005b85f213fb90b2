package distribution

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestGoreleaserConfig: the release builds what the action downloads, the
// way the contract says: static, -trimpath, reproducible, checksummed, with
// SBOMs and the container image.
func TestGoreleaserConfig(t *testing.T) {
	cfg := decodeLoose(t, ".goreleaser.yaml")
	if v := fmt.Sprint(cfg["version"]); v != "2" {
		t.Errorf("version = %s, want 2", v)
	}
	builds := asList(cfg["builds"])
	if len(builds) != 1 {
		t.Fatalf("want one build, got %d", len(builds))
	}
	b := asMap(builds[0])
	if b["main"] != "./cmd/keyless" || b["binary"] != "keyless" {
		t.Errorf("build main/binary = %v/%v", b["main"], b["binary"])
	}
	if !contains(asList(b["env"]), "CGO_ENABLED=0") {
		t.Error("build is not static: CGO_ENABLED=0 missing")
	}
	if !contains(asList(b["flags"]), "-trimpath") {
		t.Error("build lacks -trimpath")
	}
	if asString(b["mod_timestamp"]) != "{{ .CommitTimestamp }}" {
		t.Error("build lacks mod_timestamp: {{ .CommitTimestamp }} (reproducible file times)")
	}
	ld := fmt.Sprint(b["ldflags"])
	for _, want := range []string{"buildinfo.Version=", "buildinfo.Commit=", "-s -w"} {
		if !strings.Contains(ld, want) {
			t.Errorf("ldflags lack %s", want)
		}
	}
	if got := strs(asList(b["goos"])); got != "darwin linux windows" {
		t.Errorf("goos = %s", got)
	}
	if got := strs(asList(b["goarch"])); got != "amd64 arm64" {
		t.Errorf("goarch = %s", got)
	}

	archives := asList(cfg["archives"])
	if len(archives) != 1 {
		t.Fatalf("want one archive, got %d", len(archives))
	}
	ar := asMap(archives[0])
	if ar["name_template"] != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" || strs(asList(ar["formats"])) != "tar.gz" {
		t.Errorf("archive name %v / formats %v: action/install.sh expects keyless_<version>_<os>_<arch>.tar.gz", ar["name_template"], ar["formats"])
	}
	if ar["format_overrides"] != nil {
		t.Error("format_overrides would change the name action/install.sh downloads")
	}
	if asString(asMap(ar["builds_info"])["mtime"]) == "" {
		t.Error("archive entries need a fixed mtime to be reproducible")
	}
	if asString(asMap(cfg["checksum"])["name_template"]) != "checksums.txt" {
		t.Error("checksums file must be checksums.txt, which action/install.sh reads")
	}
	if len(asList(cfg["sboms"])) == 0 {
		t.Error("no SBOMs")
	}
	images := asList(cfg["dockers_v2"])
	if len(images) == 0 {
		t.Fatal("no container image")
	}
	for _, img := range images {
		args := asMap(asMap(img)["build_args"])
		if args["BINARY"] != "release" {
			t.Errorf("image %v: BINARY=release missing, the image would compile a second binary", asMap(img)["id"])
		}
		if strs(asList(asMap(img)["platforms"])) != "linux/amd64 linux/arm64" {
			t.Errorf("image %v: platforms %v", asMap(img)["id"], asMap(img)["platforms"])
		}
	}

	install := string(readFile(t, "action/install.sh"))
	for _, want := range []string{`archive="keyless_${version}_${os}_${arch}.tar.gz"`, `"$base/checksums.txt"`, `version="${tag#v}"`} {
		if !strings.Contains(install, want) {
			t.Errorf("action/install.sh does not contain %s: it and .goreleaser.yaml disagree on what a release holds", want)
		}
	}
}

// TestDockerfile: a multi-stage static build on a distroless nonroot base,
// with the Go of go.mod, and a release stage for goreleaser's binary.
func TestDockerfile(t *testing.T) {
	df := string(readFile(t, "Dockerfile"))
	for _, want := range []string{
		"CGO_ENABLED=0", "-trimpath", `-s -w`,
		"ARG BASE=gcr.io/distroless/static-debian12:nonroot",
		"FROM scratch AS release", "COPY ${TARGETPLATFORM}/keyless",
		"FROM ${BINARY} AS binary", "USER nonroot:nonroot", `ENTRYPOINT ["keyless"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	goVersion := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindStringSubmatch(string(readFile(t, "go.mod")))
	if goVersion == nil || !strings.Contains(df, "ARG GO_VERSION="+goVersion[1]+"\n") {
		t.Errorf("Dockerfile's GO_VERSION must be go.mod's go %v, so the image builds what the release builds", goVersion)
	}
	if !regexp.MustCompile(`(?m)^FROM --platform=\$BUILDPLATFORM golang:\$\{GO_VERSION\} AS source$`).MatchString(df) {
		t.Error("the source stage should cross-compile on the build platform")
	}
	di := string(readFile(t, ".dockerignore"))
	for _, want := range []string{"*\n", "!go.mod", "!go.sum", "!cmd/", "!internal/"} {
		if !strings.Contains(di, want) {
			t.Errorf(".dockerignore lacks %q: the build context should be the Go sources only", want)
		}
	}
}

func contains(l []any, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func strs(l []any) string {
	out := make([]string, 0, len(l))
	for _, v := range l {
		out = append(out, fmt.Sprint(v))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// TestReleaseAttestsProvenance: the release job attests the archives it
// publishes, after goreleaser built them, so action/install.sh can check
// that an archive was built by this workflow from the commit the action is
// pinned to.
func TestReleaseAttestsProvenance(t *testing.T) {
	var release map[string]any
	for _, w := range loadWorkflows(t, ".github/workflows/release.yml") {
		release = w.jobs()["release"]
	}
	if release == nil {
		t.Fatal("release.yml has no release job")
	}
	perms := asMap(release["permissions"])
	for _, p := range []string{"id-token", "attestations"} {
		if asString(perms[p]) != "write" {
			t.Errorf("release job: permissions %s: write is missing (got %v)", p, perms[p])
		}
	}
	goreleaser, attest := -1, -1
	for i, s := range asList(release["steps"]) {
		step := asMap(s)
		ref := asString(step["uses"])
		switch {
		case strings.HasPrefix(ref, "goreleaser/goreleaser-action@"):
			goreleaser = i
		case strings.HasPrefix(ref, "actions/attest-build-provenance@"):
			attest = i
			if got := asString(asMap(step["with"])["subject-checksums"]); got != "dist/checksums.txt" {
				t.Errorf("attest-build-provenance: subject-checksums = %q, want dist/checksums.txt (every archive)", got)
			}
		}
	}
	if attest < 0 || attest < goreleaser {
		t.Errorf("release job: actions/attest-build-provenance must run after goreleaser (steps %d, %d)", goreleaser, attest)
	}
}
