package tokensource

import (
	"net/url"
	"strings"

	"github.com/keyless-dev/keyless/internal/environ"
)

// Platforms Detect recognizes.
const (
	PlatformGitHub = "github"
	PlatformGitLab = "gitlab"
)

// Platform names the CI platform the process runs in, or "".
func Platform(env environ.Env) string {
	if _, ok := env.Lookup(EnvRequestURL); ok || environ.Get(env, EnvGitHubActions) == "true" {
		return PlatformGitHub
	}
	if environ.Get(env, EnvGitLabCI) == "true" {
		return PlatformGitLab
	}
	return ""
}

// LikelyIssuer guesses the issuer of the job's token from the platform's
// variables, so its keys can be fetched while the token is requested. It is
// only a guess: verification pins the issuer independently, and a wrong
// guess just fetches nothing (Prefetch ignores untrusted issuers).
//
//   - github.com: https://token.actions.githubusercontent.com (an
//     enterprise-slug issuer cannot be guessed);
//   - GHE.com (https://SUBDOMAIN.ghe.com): https://token.actions.SUBDOMAIN.ghe.com;
//   - GitHub Enterprise Server: GITHUB_SERVER_URL + /_services/token;
//   - GitLab: CI_SERVER_URL (gitlab.com or the self-managed instance).
func LikelyIssuer(env environ.Env) string {
	switch Platform(env) {
	case PlatformGitHub:
		server := strings.TrimRight(environ.Get(env, "GITHUB_SERVER_URL"), "/")
		if server == "" || server == "https://github.com" {
			return "https://token.actions.githubusercontent.com"
		}
		u, err := url.Parse(server)
		if err != nil || u.Host == "" {
			return ""
		}
		if strings.HasSuffix(u.Host, ".ghe.com") {
			return "https://token.actions." + u.Host
		}
		return server + "/_services/token"
	case PlatformGitLab:
		return strings.TrimRight(environ.Get(env, "CI_SERVER_URL"), "/")
	}
	return ""
}
