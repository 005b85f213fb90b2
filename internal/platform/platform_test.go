package platform

import (
	"testing"

	"github.com/keyless-dev/keyless/internal/environ"
)

func TestLikelyIssuer(t *testing.T) {
	tests := []struct {
		name string
		env  environ.Map
		want string
	}{
		{"github.com", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com"}, "https://token.actions.githubusercontent.com"},
		{"github without server url", environ.Map{"GITHUB_ACTIONS": "true"}, "https://token.actions.githubusercontent.com"},
		{"ghe.com", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://octo.ghe.com"}, "https://token.actions.octo.ghe.com"},
		{"enterprise server", environ.Map{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://ghes.example.com/"}, "https://ghes.example.com/_services/token"},
		{"gitlab.com", environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com"}, "https://gitlab.com"},
		{"self-managed gitlab", environ.Map{"GITLAB_CI": "true", "CI_SERVER_URL": "https://git.example.com/"}, "https://git.example.com"},
		{"elsewhere", environ.Map{"CI": "true"}, ""},
	}
	for _, tt := range tests {
		if got := LikelyIssuer(tt.env); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestKnownJWKS(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"https://token.actions.githubusercontent.com", "https://token.actions.githubusercontent.com/.well-known/jwks"},
		{"https://gitlab.com", "https://gitlab.com/oauth/discovery/keys"},
		{"https://token.actions.githubusercontent.com/acme", ""},
		{"https://ghes.example.com/_services/token", ""},
		{"https://token.actions.octo.ghe.com", ""},
		{"https://gitlab.example.com", ""},
	}
	for _, tt := range tests {
		if got := KnownJWKS(tt.issuer); got != tt.want {
			t.Errorf("%s: %q", tt.issuer, got)
		}
	}
}

func TestDetectAndOf(t *testing.T) {
	detect := []struct {
		env  environ.Map
		want string
	}{
		{environ.Map{"GITHUB_ACTIONS": "true"}, "github"},
		{environ.Map{"ACTIONS_ID_TOKEN_REQUEST_URL": "https://x"}, "github"},
		{environ.Map{"GITLAB_CI": "true"}, "gitlab"},
		{environ.Map{"GITLAB_CI": "false"}, ""},
		{environ.Map{}, ""},
	}
	for _, tt := range detect {
		got := ""
		if p := Detect(tt.env); p != nil {
			got = p.Name
		}
		if got != tt.want {
			t.Errorf("Detect(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
	of := []struct{ issuer, name, want string }{
		{"https://token.actions.githubusercontent.com", "", "github"},
		{"https://token.actions.githubusercontent.com/acme", "", "github"},
		{"https://ghes.example.com/_services/token", "", "github"},
		{"https://token.actions.octo.ghe.com", "", "github"},
		{"https://gitlab.com", "", "gitlab"},
		{"https://gitlab.example.com", "", "gitlab"},
		{"https://git.example.com", "gitlab-self", "gitlab"},
		{"https://git.example.com", "mine", "generic"},
		{"%zz", "", "generic"},
	}
	for _, tt := range of {
		if got := Of(tt.issuer, tt.name).Name; got != tt.want {
			t.Errorf("Of(%q, %q) = %q, want %q", tt.issuer, tt.name, got, tt.want)
		}
	}
}

func TestConcepts(t *testing.T) {
	for _, p := range All() {
		for c := range p.Concepts {
			if !IsConcept(c) {
				t.Errorf("%s: %q is not a concept", p.Name, c)
			}
		}
		for _, cl := range append(append(append([]string{}, p.RepositoryClaims...), p.OwnerClaims...), p.IDClaims...) {
			if !p.Known(cl) {
				t.Errorf("%s: %q is not one of its claims", p.Name, cl)
			}
		}
		for _, cs := range p.Concepts {
			for _, c := range cs {
				if !p.Known(c.Name) {
					t.Errorf("%s: concept claim %q is not one of its claims", p.Name, c.Name)
				}
			}
		}
		if !p.Generic() && (p.Subject.Plan == nil || p.Subject.Example == "" || p.Source == nil) {
			t.Errorf("%s: a platform needs a token source, a subject example and a subject plan", p.Name)
		}
	}
	if got := ByName("gitlab").Concept("branch"); len(got) != 2 || got[0].Equals != "branch" {
		t.Errorf("gitlab branch: %+v", got)
	}
}
