package platform

// generic is any issuer keyless does not know: no detection, no default
// issuer, no concepts (rules use claim names), no subject grammar.
func generic() *Platform {
	return &Platform{
		Name:  "generic",
		Title: "another issuer",
		Subject: Subject{
			Owner: "owner", Repository: "repository",
			Example:    `"the exact subject of the jobs you trust"`,
			CELExample: `"assertion.sub == 'SUBJECT'"`,
		},
	}
}
