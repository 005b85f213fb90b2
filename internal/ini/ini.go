package ini

import (
	"bytes"
	"strings"
)

// ReplaceSection returns an INI file with every section named in names
// removed and section (a complete "[name]\nkey = value\n" block) put where
// the first of them was, or appended. Everything else, comments and other
// profiles included, is kept byte for byte, so that a user's other profiles
// survive. A nil section only removes. Header lines are recognized the way
// the AWS SDKs do: "[ type  name ]" with an optional trailing comment.
func ReplaceSection(existing []byte, names []string, section []byte) []byte {
	var out bytes.Buffer
	placed, skipping := false, false
	lines := bytes.SplitAfter(existing, []byte("\n"))
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		if name, ok := sectionName(line); ok {
			wasSkipping := skipping
			skipping = contains(names, name)
			if skipping && !placed {
				out.Write(section)
				placed = true
			}
			if !skipping && wasSkipping && section != nil && out.Len() > 0 {
				// Keep a blank line between the replaced section and the next.
				out.WriteByte('\n')
			}
		}
		if skipping {
			continue
		}
		out.Write(line)
		if i == len(lines)-1 && !bytes.HasSuffix(line, []byte("\n")) {
			out.WriteByte('\n')
		}
	}
	if section == nil && skipping {
		// The file ended in a removed section: drop the blank line a merge
		// put before it, so that removing what a merge appended gives the
		// file back as it was.
		for bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
			out.Truncate(out.Len() - 1)
		}
	}
	if !placed && section != nil {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n\n")) {
			out.WriteByte('\n')
		}
		out.Write(section)
	}
	return out.Bytes()
}

// sectionName reports whether line is a section header and its normalized
// name ("profile dev", "default").
func sectionName(line []byte) (string, bool) {
	s := string(line)
	if i := strings.IndexAny(s, "#;"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", false
	}
	return strings.Join(strings.Fields(s[1:len(s)-1]), " "), true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
