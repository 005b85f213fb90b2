package platform

import (
	"net/url"
	"strings"

	"context"
	"github.com/keyless-dev/keyless/internal/environ"
	"github.com/keyless-dev/keyless/internal/secret"
)

// Kubernetes: a pod reads a projected service-account token, which the
// kubelet rotates, so the file is read again whenever a token is needed.
// keyless reads the file the cluster's webhook names
// (AWS_WEB_IDENTITY_TOKEN_FILE on EKS, AZURE_FEDERATED_TOKEN_FILE with Azure
// workload identity), else the projected path /var/run/secrets/keyless/token.
// The issuer is the cluster's (its service-account-issuer).
const (
	EnvKubernetes   = "KUBERNETES_SERVICE_HOST"
	KubernetesToken = "/var/run/secrets/keyless/token" // #nosec G101 -- a path
	k8sPrefix       = "kubernetes.io/"
)

// kubernetesFiles are the variables a cluster's webhook sets to its
// projected token, by the cloud the token is for.
var kubernetesFiles = [...][2]string{{"aws", "AWS_WEB_IDENTITY_TOKEN_FILE"}, {"azure", "AZURE_FEDERATED_TOKEN_FILE"}}

func kubernetes() *Platform {
	return &Platform{
		Name:   "kubernetes",
		Title:  "Kubernetes",
		Detect: func(env environ.Env) bool { return environ.Get(env, EnvKubernetes) != "" },
		Source: func(d Deps) (Source, error) { return &Projected{env: d.Env, read: d.ReadFile}, nil },
		Recognizes: func(u *url.URL) bool {
			h := u.Hostname()
			return (strings.HasPrefix(h, "oidc.eks.") && strings.HasPrefix(u.Path, "/id/")) ||
				(h == "container.googleapis.com" && strings.Contains(u.Path, "/clusters/")) ||
				strings.HasSuffix(h, ".oic.prod-aks.azure.com")
		},
		NestedClaims: true,
		Concepts: map[string][]Claim{
			"repository": {{Name: k8sPrefix + "serviceaccount/name"}},
			"owner":      {{Name: k8sPrefix + "namespace"}},
		},
		Claims: []string{
			"iss", "sub", "aud", "exp", "nbf", "iat", "jti",
			k8sPrefix + "namespace", k8sPrefix + "serviceaccount/name", k8sPrefix + "serviceaccount/uid",
			k8sPrefix + "pod/name", k8sPrefix + "pod/uid", k8sPrefix + "node/name", k8sPrefix + "node/uid",
		},
		RepositoryClaims: []string{k8sPrefix + "serviceaccount/name", k8sPrefix + "serviceaccount/uid"},
		OwnerClaims:      []string{k8sPrefix + "namespace"},
		IDClaims:         []string{k8sPrefix + "serviceaccount/uid"},
		Subject: Subject{
			Key: "system:serviceaccount:", OwnerEnd: ":",
			Owner: "namespace", Repository: "service account",
			Example:    `"system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT"`,
			CELExample: `"assertion.sub == 'system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT'"`,
			Plan: TemplatePlan(Part{Lit: "system:serviceaccount:"}, Part{Claim: k8sPrefix + "namespace"}, Part{Lit: ":"},
				Part{Claim: k8sPrefix + "serviceaccount/name"}),
		},
	}
}

// Projected reads the pod's projected token file on every use.
type Projected struct {
	env   environ.Env
	read  func(string) ([]byte, error)
	cloud string
}

func (p *Projected) Name() string { return "kubernetes" }
func (p *Projected) Minted() bool { return false }

// path is the cloud's webhook file, else any webhook file, else the
// projected path keyless documents.
func (p *Projected) path() string {
	for _, f := range kubernetesFiles {
		if f[0] == p.cloud {
			if v := environ.Get(p.env, f[1]); v != "" {
				return v
			}
		}
	}
	for _, f := range kubernetesFiles {
		if v := environ.Get(p.env, f[1]); v != "" && p.cloud == "" {
			return v
		}
	}
	return KubernetesToken
}

// Describe says where the token comes from, for people.
func (p *Projected) Describe(string) string { return "the projected token " + p.path() }

// ForCloud prefers the file a cloud's webhook projected for that cloud.
func (p *Projected) ForCloud(cloud string) Source {
	c := *p
	c.cloud = cloud
	return &c
}

// AudienceHint says how to project a token with the audience a cloud expects.
func (p *Projected) AudienceHint(_, audience string) string {
	if audience == "" {
		audience = "AUDIENCE"
	}
	return "project a token with that audience into the pod:\n  volumes:\n    - name: keyless\n      projected:\n        sources:\n          - serviceAccountToken: {audience: " + audience + ", path: token, expirationSeconds: 3600}\n" +
		"and mount it at /var/run/secrets/keyless"
}

func (p *Projected) Token(ctx context.Context, aud string) (secret.String, error) {
	return NewFile(p.path(), p.read).Token(ctx, aud)
}
