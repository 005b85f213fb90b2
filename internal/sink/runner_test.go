package sink

import (
	"errors"
	"fmt"
	"strings"
)

// The GitHub runner's reading of GITHUB_ENV and GITHUB_OUTPUT (its
// FileCommandManager), written out so that tests read the files back the way
// the runner will:
//   - the text is split into lines at "\n"; a "\r\n" is one line break;
//   - an empty line is skipped;
//   - NAME=VALUE when "=" comes before any "<<";
//   - NAME<<DELIMITER otherwise: the value is every following line up to one
//     that equals DELIMITER once trailing "\r" and "\n" are trimmed, joined
//     with the line breaks as found; no such line is an error, and so is a
//     value line at the end of the text without a line break.

type kv struct{ name, value string }

type runnerLines struct {
	text string
	i    int
}

func (r *runnerLines) next() (line, newline string, ok bool) {
	if r.i >= len(r.text) {
		return "", "", false
	}
	j := strings.IndexByte(r.text[r.i:], '\n')
	if j < 0 {
		line = r.text[r.i:]
		r.i = len(r.text)
		return line, "", true
	}
	line, newline = r.text[r.i:r.i+j], "\n"
	if strings.HasSuffix(line, "\r") {
		line, newline = line[:len(line)-1], "\r\n"
	}
	r.i += j + 1
	return line, newline, true
}

var errRunner = errors.New("runner rejects the file")

func parseRunnerFile(text string) ([]kv, error) {
	var out []kv
	r := &runnerLines{text: text}
	for line, _, ok := r.next(); ok; line, _, ok = r.next() {
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			if eq == 0 {
				return nil, fmt.Errorf("%w: empty name in %q", errRunner, line)
			}
			out = append(out, kv{line[:eq], line[eq+1:]})
		case hd >= 0 && (eq < 0 || hd < eq):
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("%w: empty name or delimiter in %q", errRunner, line)
			}
			start, end := r.i, r.i
			for {
				l, nl, ok := r.next()
				if !ok {
					return nil, fmt.Errorf("%w: delimiter %q not found", errRunner, delim)
				}
				if strings.TrimRight(l, "\r\n") == delim {
					break
				}
				if nl == "" {
					return nil, fmt.Errorf("%w: EOF marker missing new line", errRunner)
				}
				end = r.i - len(nl)
			}
			value := ""
			if end > start {
				value = text[start:end]
			}
			out = append(out, kv{name, value})
		default:
			return nil, fmt.Errorf("%w: invalid format %q", errRunner, line)
		}
	}
	return out, nil
}

// runnerMap is the variables a file sets, the last one of a name winning.
func runnerMap(text string) (map[string]string, error) {
	vars, err := parseRunnerFile(text)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, v := range vars {
		m[v.name] = v.value
	}
	return m, nil
}
