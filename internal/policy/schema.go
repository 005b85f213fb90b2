package policy

import _ "embed"

//go:embed schema.json
var schema []byte

// Schema returns the policy format's JSON Schema (draft 2020-12), the same
// bytes as policies/schema.json. The loader is stricter than the schema in
// what a schema cannot say: unknown concepts, duplicate rule names, unknown
// issuer names, invalid regexes.
func Schema() []byte { return append([]byte(nil), schema...) }
