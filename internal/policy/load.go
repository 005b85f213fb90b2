package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/claims"
	"github.com/keyless-dev/keyless/internal/clouds"
	"github.com/keyless-dev/keyless/internal/failure"
	"github.com/keyless-dev/keyless/internal/grant"
	"github.com/keyless-dev/keyless/internal/platform"
	"github.com/keyless-dev/keyless/internal/transport"
	"github.com/keyless-dev/keyless/internal/verify"
)

// MaxSize bounds a policy file.
const MaxSize = 1 << 20

// Load reads and compiles a policy file. Only a regular file is read: a
// named pipe, a device or a socket can hold the read open for as long as
// whoever writes it likes, past every deadline, and no policy needs one.
func Load(path string) (*Policy, error) {
	// openNoWait: opening a named pipe would wait for a writer before the
	// file's type could be checked.
	f, err := os.OpenFile(path, os.O_RDONLY|openNoWait, 0)
	if err != nil {
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("policy: %w", err), "check the --policy path")
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("policy: %w", err), "check the --policy path")
	}
	if !info.Mode().IsRegular() {
		return nil, failure.Usage("write the policy to a file and name that file; keyless reads no policy from a pipe or a device",
			"policy: %s is not a regular file (%s)", path, fileKind(info.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, failure.Mark(failure.ErrUsage, fmt.Errorf("policy: read %s: %w", path, err), "check the --policy path")
	}
	return Parse(path, data)
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	default:
		return "mode " + m.String()
	}
}

// Parse compiles a policy; name is used in error messages (a file name).
func Parse(name string, data []byte) (*Policy, error) {
	if len(data) > MaxSize {
		return nil, failure.Usage("a policy is a small YAML file; check the path", "%s: policy is larger than %d bytes", name, MaxSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, failure.Usage("start from one of the example policies (keyless policy schema prints the format)", "%s: policy file is empty", name)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, failure.Usage("fix the YAML syntax at that line", "%s", yamlError(name, data, err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, failure.Usage("fix the YAML syntax at that line", "%s", yamlError(name, data, err))
		}
		return nil, failure.Usage("put the whole policy in one YAML document (remove the ---)", "%s:%d: a second YAML document", name, line)
	}
	l := &loader{name: name}
	p, err := l.policy(&doc)
	if err != nil {
		return nil, err
	}
	p.name = name
	sum := sha256.Sum256(data)
	p.sha256 = hex.EncodeToString(sum[:])
	return p, nil
}

// yamlError reports a syntax error as file:line: at the line where the
// problem is. The YAML library names the line where the enclosing block
// began (a key indented one space too few under match: is reported at
// rules:, lines above), so the line is found again: the first line whose
// inclusion makes the text fail with the same message (a binary search:
// once the faulty line is in, every longer prefix fails the same way).
func yamlError(name string, data []byte, err error) string {
	what := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(what, "line "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			what = after
		}
	}
	fails := func(n int, lines [][]byte) bool {
		dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil)))
		for {
			var node yaml.Node
			err := dec.Decode(&node)
			if errors.Is(err, io.EOF) {
				return false
			}
			if err != nil {
				return strings.HasSuffix(err.Error(), ": "+what) || err.Error() == "yaml: "+what
			}
		}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	lo, hi := 1, len(lines)
	if !fails(hi, lines) {
		return fmt.Sprintf("%s: invalid YAML: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid, lines) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return fmt.Sprintf("%s:%d: invalid YAML: %s", name, lo, what)
}

type loader struct {
	name     string
	patterns compiledPatterns
}

// errAt builds the one message a user sees: file:line: where: what, and a
// hint saying what to do.
func (l *loader) errAt(n *yaml.Node, where, hint, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	if line > 0 {
		return failure.Usage(hint, "%s:%d: %s", l.name, line, msg)
	}
	return failure.Usage(hint, "%s: %s", l.name, msg)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!int":
			return "a number"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		}
		return "a string"
	}
	return "something else"
}

// mapping checks n is a mapping with unique, known keys and returns them in
// order.
func (l *loader) mapping(n *yaml.Node, where string, known []string, hint string) ([][2]*yaml.Node, error) {
	if n.Kind == yaml.AliasNode {
		return nil, l.errAt(n, where, "write the value out in full", "YAML aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return nil, l.errAt(n, where, hint, "expected a mapping (key: value lines), found %s", kindName(n))
	}
	// Keys are checked for repeats against the ones before them: a mapping
	// here has a handful of keys, fewer than a map would pay for.
	out := make([][2]*yaml.Node, 0, len(n.Content)/2)
	var seen map[string]bool
	if len(n.Content) > 32 {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode || v.Kind == yaml.AliasNode {
			return nil, l.errAt(k, where, "write the value out in full", "YAML aliases are not supported")
		}
		if k.Kind != yaml.ScalarNode {
			return nil, l.errAt(k, where, hint, "a key must be a plain name, found %s", kindName(k))
		}
		if k.Value == "<<" && k.Tag == "!!merge" {
			return nil, l.errAt(k, where, "write the keys out in full", "YAML merge keys (<<) are not supported")
		}
		if seenKey(out, seen, k.Value) {
			return nil, l.errAt(k, where, "remove one of them", "key %q appears twice", k.Value)
		}
		if seen != nil {
			seen[k.Value] = true
		}
		if known != nil && !contains(known, k.Value) {
			h := "the keys here are: " + strings.Join(known, ", ")
			if s := closest(k.Value, known); s != "" {
				h = fmt.Sprintf("did you mean %q? ", s) + h
			}
			return nil, l.errAt(k, where, h, "unknown key %q", k.Value)
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out, nil
}

func seenKey(before [][2]*yaml.Node, seen map[string]bool, k string) bool {
	if seen != nil {
		return seen[k]
	}
	for _, kv := range before {
		if kv[0].Value == k {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func closest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// str reads a string scalar; numbers and booleans are refused so a typo like
// "effect: yes" is not silently a string.
func (l *loader) str(n *yaml.Node, where, hint string) (string, error) {
	if n.Kind == yaml.AliasNode {
		return "", l.errAt(n, where, "write the value out in full", "YAML aliases are not supported")
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", l.errAt(n, where, hint, "expected a string, found %s", kindName(n))
	}
	if strings.TrimSpace(n.Value) == "" {
		return "", l.errAt(n, where, hint, "empty value")
	}
	return n.Value, nil
}

// matchValue reads a scalar a claim is compared with: strings as written,
// booleans as "true"/"false", numbers as decimal strings, the way claims are
// normalized.
func (l *loader) matchValue(n *yaml.Node, where string) (string, error) {
	const hint = `write a string, a list of strings, {glob: "…"} or {regex: "…"}`
	if n.Kind == yaml.AliasNode {
		return "", l.errAt(n, where, "write the value out in full", "YAML aliases are not supported")
	}
	if n.Kind != yaml.ScalarNode {
		return "", l.errAt(n, where, hint, "expected a value, found %s", kindName(n))
	}
	switch n.ShortTag() {
	case "!!str":
		if n.Value == "" {
			return "", l.errAt(n, where, "an empty string matches only an empty claim; remove the condition or give a value", "empty value")
		}
		return n.Value, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return "", l.errAt(n, where, hint, "bad boolean %q", n.Value)
		}
		return strconv.FormatBool(b), nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		return n.Value, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return "", l.errAt(n, where, hint, "bad number %q", n.Value)
		}
		s, _ := claims.Normalize(f)
		return s, nil
	case "!!null":
		return "", l.errAt(n, where, "give a value, or remove the condition", "no value")
	}
	return "", l.errAt(n, where, hint, "unsupported value %q (tag %s)", n.Value, n.ShortTag())
}

// Names and the identities grants hold are checked with plain code: every
// rule has a name and most grant a role, and a regexp with a bounded repeat
// such as {1,512} costs a compile of a few hundred microseconds and a slow
// match. identity_test.go holds each to the regexp it replaces.

// isName: ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
func isName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && charset.Alnum(s[0]) && charset.All(s, charset.Alnum, charset.Of("._-"))
}

func (l *loader) policy(doc *yaml.Node) (*Policy, error) {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, l.errAt(nil, "", "start from one of the example policies", "policy file is empty")
		}
		root = doc.Content[0]
	}
	top, err := l.mapping(root, "", []string{"version", "issuers", "rules"}, "a policy has version: 1, issuers: and rules:")
	if err != nil {
		return nil, err
	}
	p := &Policy{issuers: defaultIssuers()}
	var version, rulesNode *yaml.Node
	for _, kv := range top {
		switch kv[0].Value {
		case "version":
			version = kv[1]
		case "issuers":
			if err := l.issuers(p, kv[1]); err != nil {
				return nil, err
			}
		case "rules":
			rulesNode = kv[1]
		}
	}
	if version == nil {
		return nil, l.errAt(root, "", "add version: 1 at the top", "version is missing")
	}
	if version.Kind != yaml.ScalarNode || version.ShortTag() != "!!int" || version.Value != "1" {
		return nil, l.errAt(version, "version", "write version: 1 (the only format this keyless reads)", "unsupported version %q", version.Value)
	}
	if rulesNode == nil {
		return nil, l.errAt(root, "", "add a rules: list; without rules every token is denied", "rules are missing")
	}
	if rulesNode.Kind != yaml.SequenceNode {
		return nil, l.errAt(rulesNode, "rules", "rules is a list: each rule starts with \"- name: …\"", "expected a list, found %s", kindName(rulesNode))
	}
	if len(rulesNode.Content) == 0 {
		return nil, l.errAt(rulesNode, "rules", "add at least one allow rule; without rules every token is denied", "no rules")
	}
	names := map[string]int{}
	claimIdx := map[string]int{}
	for i, rn := range rulesNode.Content {
		r, err := l.rule(p, rn, i)
		if err != nil {
			return nil, err
		}
		if prev, dup := names[r.name]; dup {
			return nil, l.errAt(rn, fmt.Sprintf("rules[%d]", i), "give every rule its own name; decisions name the rule", "rule name %q is already used at line %d", r.name, prev)
		}
		names[r.name] = r.line
		index := func(c *compiledClaim) {
			idx, ok := claimIdx[c.Claim]
			if !ok {
				idx = len(p.claimNames)
				claimIdx[c.Claim] = idx
				p.claimNames = append(p.claimNames, c.Claim)
			}
			c.idx = idx
		}
		index(r.issuerCond)
		for _, c := range r.conds {
			for _, m := range c.claims {
				index(m)
			}
		}
		p.nConds += r.nConds
		p.rules = append(p.rules, r)
	}
	return p, nil
}

func (l *loader) issuers(p *Policy, n *yaml.Node) error {
	example := platform.All()[0]
	hint := "issuers maps a name to a URL, e.g. " + example.Name + ": " + example.Issuers[0]
	kvs, err := l.mapping(n, "issuers", nil, hint)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		if !isName(name) {
			return l.errAt(kv[0], "issuers", "use letters, digits, '.', '_' and '-'", "bad issuer name %s", quoteName(name))
		}
		where := "issuers." + name
		is := issuer{name: name, line: kv[0].Line}
		var urlNode *yaml.Node
		switch kv[1].Kind {
		case yaml.MappingNode:
			fields, err := l.mapping(kv[1], where, []string{"url", "platform"}, "an issuer is a URL, or {url: …, platform: github|gitlab}")
			if err != nil {
				return err
			}
			for _, f := range fields {
				switch f[0].Value {
				case "url":
					urlNode = f[1]
				case "platform":
					platformHint := "platform is one of " + strings.Join(platform.Names(), ", ")
					s, err := l.str(f[1], where+".platform", platformHint)
					if err != nil {
						return err
					}
					if is.platform = platform.ByName(s); is.platform == nil {
						return l.errAt(f[1], where+".platform", platformHint, "unknown platform %q", s)
					}
				}
			}
			if urlNode == nil {
				return l.errAt(kv[1], where, "add url: https://…", "url is missing")
			}
		default:
			urlNode = kv[1]
		}
		u, err := l.str(urlNode, where, hint)
		if err != nil {
			return err
		}
		if err := verify.CheckIssuerURL(u); err != nil {
			return l.errAt(urlNode, where, "an issuer is the exact iss of its tokens, e.g. "+example.Issuers[0], "%v", err)
		}
		is.url = u
		if kv[1].Kind != yaml.MappingNode {
			is.platform = platform.Of(u, name)
		}
		p.issuers[name] = is
	}
	return nil
}

// quoteName quotes what should have been a name; a URL written in its
// place (the issuer itself, perhaps with a password) is shown as
// transport.ShowURL shows URLs.
func quoteName(s string) string {
	if strings.Contains(s, "://") || strings.Contains(s, "@") {
		return strconv.Quote(transport.ShowURL(s))
	}
	return strconv.Quote(s)
}

// defaultIssuers are the platforms' built-in issuers, each under the
// platform's name, unless the policy overrides them.
func defaultIssuers() map[string]issuer {
	out := map[string]issuer{}
	for _, pl := range platform.All() {
		if len(pl.Issuers) > 0 {
			out[pl.Name] = issuer{name: pl.Name, url: pl.Issuers[0], platform: pl}
		}
	}
	return out
}

func (l *loader) rule(p *Policy, n *yaml.Node, i int) (*rule, error) {
	where := fmt.Sprintf("rules[%d]", i)
	kvs, err := l.mapping(n, where, []string{"name", "description", "effect", "issuer", "match", "grant"}, "a rule has name, effect, issuer, match and grant")
	if err != nil {
		return nil, err
	}
	r := &rule{effect: Allow, line: n.Line}
	var matchNode, grantNode, issuerNode *yaml.Node
	for _, kv := range kvs {
		switch kv[0].Value {
		case "name":
			s, err := l.str(kv[1], where+".name", "name the rule with letters, digits, '.', '_' and '-'")
			if err != nil {
				return nil, err
			}
			if !isName(s) {
				return nil, l.errAt(kv[1], where+".name", "use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit", "bad rule name %q", s)
			}
			r.name = s
		case "description":
			s, err := l.str(kv[1], where+".description", "a description is one line of text")
			if err != nil {
				return nil, err
			}
			r.description = s
		case "effect":
			s, err := l.str(kv[1], where+".effect", "effect is allow or deny")
			if err != nil {
				return nil, err
			}
			switch Effect(s) {
			case Allow, Deny:
				r.effect = Effect(s)
			default:
				return nil, l.errAt(kv[1], where+".effect", "effect is allow or deny", "unknown effect %q", s)
			}
		case "issuer":
			issuerNode = kv[1]
		case "match":
			matchNode = kv[1]
		case "grant":
			grantNode = kv[1]
		}
	}
	if r.name == "" {
		return nil, l.errAt(n, where, "add name: <unique-name>", "name is missing")
	}
	where = fmt.Sprintf("rules[%d] (%s)", i, r.name)
	if issuerNode == nil {
		return nil, l.errAt(n, where, "add issuer: github, issuer: gitlab or a name from issuers:", "issuer is missing")
	}
	iname, err := l.str(issuerNode, where+".issuer", "issuer names an entry of issuers: (github and gitlab are built in)")
	if err != nil {
		return nil, err
	}
	is, ok := p.issuers[iname]
	if !ok {
		return nil, l.errAt(issuerNode, where+".issuer", "use github, gitlab or add this name under issuers: with its URL", "unknown issuer %s", quoteName(iname))
	}
	r.issuer = is
	r.issuerCond = &compiledClaim{ClaimMatch: ClaimMatch{Claim: "iss", Kind: KindExact, Values: []string{is.url}}}
	r.issuerCond.m, _ = newMatcher(KindExact, r.issuerCond.Values, nil)
	r.issuerCond.expected = renderExpected(r.issuerCond.ClaimMatch)
	r.nConds = 1

	if matchNode == nil {
		return nil, l.errAt(n, where, "add match: with at least one condition (a rule without conditions would match every token)", "match is missing")
	}
	mkvs, err := l.mapping(matchNode, where+".match", nil, "match maps a concept or claim to a value, e.g. repository: acme/api")
	if err != nil {
		return nil, err
	}
	if len(mkvs) == 0 {
		return nil, l.errAt(matchNode, where+".match", "add at least one condition (a rule without conditions would match every token)", "no conditions")
	}
	for _, kv := range mkvs {
		c, err := l.condition(is, kv[0], kv[1], where+".match")
		if err != nil {
			return nil, err
		}
		r.conds = append(r.conds, c)
		r.nConds += len(c.claims)
	}

	switch {
	case r.effect == Deny && grantNode != nil:
		return nil, l.errAt(grantNode, where+".grant", "remove grant: from the deny rule (a deny rule only refuses)", "a deny rule cannot grant")
	case r.effect == Allow && grantNode == nil:
		return nil, l.errAt(n, where, "add grant: with the "+series(cloudNames(), "or")+" identities this rule allows", "an allow rule needs a grant")
	case grantNode != nil:
		g, err := l.grant(grantNode, where+".grant")
		if err != nil {
			return nil, err
		}
		r.grant = g
	}
	return r, nil
}

func (l *loader) condition(is issuer, kn, vn *yaml.Node, where string) (*condition, error) {
	key := kn.Value
	where = where + "." + key
	c := &condition{key: key, line: kn.Line}
	claimName := ""
	switch {
	case strings.HasPrefix(key, "claim:"):
		claimName = strings.TrimPrefix(key, "claim:")
		if claimName == "" {
			return nil, l.errAt(kn, where, "write claim:NAME", "empty claim name")
		}
	case key == "iss":
		return nil, l.errAt(kn, where, "set the issuer with issuer: on the rule; it is checked for you", "iss cannot be matched directly")
	case platform.IsConcept(key):
		if is.platform.Generic() {
			return nil, l.errAt(kn, where, fmt.Sprintf("concepts need a known platform: give issuer %s a platform (%s), or match on claim names", is.name, strings.Join(platform.Names(), ", ")), "concept %q has no meaning for issuer %q", key, is.name)
		}
		if len(is.platform.Concept(key)) == 0 {
			return nil, l.errAt(kn, where, fmt.Sprintf("%s has no %s; match on its claims instead", is.platform.Title, key), "concept %q has no meaning on %s", key, is.platform.Name)
		}
		c.concept = true
	case is.platform.Generic() || is.platform.Known(key):
		claimName = key
	default:
		h := fmt.Sprintf("concepts are %s; or write claim:%s to match a claim keyless does not know", strings.Join(platform.Concepts(), ", "), key)
		if s := suggest(is.platform, key); s != "" {
			h = fmt.Sprintf("did you mean %q? ", s) + h
		}
		return nil, l.errAt(kn, where, h, "unknown concept or %s claim %q", is.platform.Name, key)
	}

	kind, values, err := l.matchSpec(vn, where)
	if err != nil {
		return nil, err
	}
	c.kind, c.values = kind, values
	var ms []ClaimMatch
	if c.concept {
		ms = resolveConcept(is.platform, key, kind, values)
	} else {
		ms = []ClaimMatch{{Claim: claimName, Kind: kind, Values: values}}
	}
	for _, m := range ms {
		mm, err := newMatcher(m.Kind, m.Values, &l.patterns)
		if err != nil {
			return nil, l.errAt(vn, where, "regexes are RE2 (https://github.com/google/re2/wiki/Syntax), matched against the whole value", "%v", err)
		}
		c.claims = append(c.claims, &compiledClaim{ClaimMatch: m, m: mm, expected: renderExpected(m)})
	}
	return c, nil
}

func (l *loader) matchSpec(n *yaml.Node, where string) (Kind, []string, error) {
	switch n.Kind {
	case yaml.ScalarNode, yaml.AliasNode:
		v, err := l.matchValue(n, where)
		if err != nil {
			return "", nil, err
		}
		return KindExact, []string{v}, nil
	case yaml.SequenceNode:
		vs, err := l.valueList(n, where, "a list holds plain values (any of them matches); for several patterns write {glob: [a, b]}")
		if err != nil {
			return "", nil, err
		}
		return KindAnyOf, vs, nil
	case yaml.MappingNode:
		kvs, err := l.mapping(n, where, []string{"glob", "regex"}, `write {glob: "…"} or {regex: "…"}`)
		if err != nil {
			return "", nil, err
		}
		if len(kvs) != 1 {
			return "", nil, l.errAt(n, where, `write either {glob: "…"} or {regex: "…"}, not both`, "expected one of glob or regex")
		}
		kind := Kind(kvs[0][0].Value)
		var vs []string
		if kvs[0][1].Kind == yaml.SequenceNode {
			vs, err = l.valueList(kvs[0][1], where+"."+string(kind), "a pattern list holds strings")
		} else {
			var v string
			v, err = l.matchValue(kvs[0][1], where+"."+string(kind))
			vs = []string{v}
		}
		if err != nil {
			return "", nil, err
		}
		return kind, vs, nil
	}
	return "", nil, l.errAt(n, where, `write a string, a list of strings, {glob: "…"} or {regex: "…"}`, "unexpected %s", kindName(n))
}

func (l *loader) valueList(n *yaml.Node, where, hint string) ([]string, error) {
	if len(n.Content) == 0 {
		return nil, l.errAt(n, where, "an empty list matches nothing; give values or remove the condition", "empty list")
	}
	vs := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			return nil, l.errAt(e, where, hint, "expected a value in the list, found %s", kindName(e))
		}
		v, err := l.matchValue(e, where)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

func (l *loader) grant(n *yaml.Node, where string) (Grant, error) {
	var g Grant
	names := cloudNames()
	keys := make([]string, len(names))
	for i, c := range names {
		keys[i] = c + ":"
	}
	kvs, err := l.mapping(n, where, names, "a grant has "+series(keys, "and/or")+" lists")
	if err != nil {
		return g, err
	}
	for _, kv := range kvs {
		name := kv[0].Value
		cloud := clouds.ByName(name)
		w := where + "." + name
		if kv[1].Kind != yaml.SequenceNode {
			return g, l.errAt(kv[1], w, fmt.Sprintf("%s is a list: - {…}", name), "expected a list, found %s", kindName(kv[1]))
		}
		if len(kv[1].Content) == 0 {
			return g, l.errAt(kv[1], w, "give at least one entry or remove the key", "empty list")
		}
		for j, e := range kv[1].Content {
			entry, err := cloud.Entry(node{l: l, n: e, where: fmt.Sprintf("%s[%d]", w, j)})
			if err != nil {
				return g, err
			}
			g.entries = append(g.entries, entry)
		}
	}
	if g.Empty() {
		return g, l.errAt(n, where, "add "+series(keys, "or")+" entries", "the grant gives nothing")
	}
	return g, nil
}

// node is a policy value as a cloud reads its grant entries.
type node struct {
	l     *loader
	n     *yaml.Node
	where string
}

func (x node) Fields(known []string, hint string) ([]grant.Field, error) {
	kvs, err := x.l.mapping(x.n, x.where, known, hint)
	if err != nil {
		return nil, err
	}
	out := make([]grant.Field, len(kvs))
	for i, kv := range kvs {
		out[i] = grant.Field{Key: kv[0].Value, Value: node{l: x.l, n: kv[1], where: x.where + "." + kv[0].Value}}
	}
	return out, nil
}

func (x node) String(hint string) (string, error) { return x.l.str(x.n, x.where, hint) }

func (x node) Strings(valid func(string) bool, hint string) ([]string, error) {
	return x.l.identityList(x.n, x.where, valid, hint)
}

func (x node) Int() (string, bool) {
	return x.n.Value, x.n.Kind == yaml.ScalarNode && x.n.ShortTag() == "!!int"
}

func (x node) Errorf(hint, format string, args ...any) error {
	return x.l.errAt(x.n, x.where, hint, format, args...)
}

// identityList reads a non-empty list of distinct identities (role ARNs,
// service account emails) that each match re.
func (l *loader) identityList(n *yaml.Node, where string, valid func(string) bool, hint string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, l.errAt(n, where, hint, "expected a list, found %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return nil, l.errAt(n, where, "give at least one entry or remove the key", "empty list")
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		s, err := l.str(e, where, hint)
		if err != nil {
			return nil, err
		}
		if !valid(s) {
			return nil, l.errAt(e, where, hint, "%q is not a valid entry", s)
		}
		if contains(out, s) {
			return nil, l.errAt(e, where, "remove one of them", "%q is listed twice", s)
		}
		out = append(out, s)
	}
	return out, nil
}
