package aws

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyless-dev/keyless/internal/charset"
	"github.com/keyless-dev/keyless/internal/grant"
)

// Name is the cloud's name: its key under a policy's grant:, its --target
// prefix and its hand-over's cloud.
const Name = "aws"

// Policy is the cloud's part of a policy: its grant entries and --target.
type Policy struct{}

// Name is the cloud's name.
func (Policy) Name() string { return Name }

// The --target keyword for a chained role. It cannot occur inside a role ARN
// (no ':' in a role name).
const chainKey = ",chain="

// TargetForm is the --target syntax.
func (Policy) TargetForm() string {
	return "aws:arn:aws:iam::ACCOUNT:role/NAME[,chain=CHAINED_ROLE_ARN]"
}

// Target reads ARN[,chain=ARN].
func (Policy) Target(s string) (grant.Target, error) {
	role, chained, chain := strings.Cut(s, chainKey)
	if !isGrantRoleARN(role) || (chain && !isGrantRoleARN(chained)) {
		return nil, errors.New("not an IAM role ARN")
	}
	if chain {
		return ChainTarget(role, chained), nil
	}
	return RoleTarget(s), nil
}

// Target asks for an IAM role. Via is set for a chained role: the role whose
// credentials assume it.
type Target struct {
	Role string
	Via  string
}

// RoleTarget asks for an IAM role.
func RoleTarget(role string) Target { return Target{Role: role} }

// ChainTarget asks for role, assumed with the credentials of via (role
// chaining). A grant gives it only by listing role in via's chain-roles.
func ChainTarget(via, role string) Target { return Target{Role: role, Via: via} }

// Cloud is the cloud's name.
func (Target) Cloud() string { return Name }

// String is the --target form.
func (t Target) String() string {
	if t.Via != "" {
		return Name + ":" + t.Via + chainKey + t.Role
	}
	return Name + ":" + t.Role
}

// MarshalText writes the --target form.
func (t Target) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Grant is an IAM role a rule may assume. MaxDuration is zero when the
// policy does not cap the session. ChainRoles are the roles a run may
// assume next with this role's credentials (--aws-chain-role); a role is
// never chained to unless listed here.
type Grant struct {
	Role        string
	MaxDuration time.Duration
	ChainRoles  []string
}

// Cloud is the cloud's name.
func (Grant) Cloud() string { return Name }

// Grants gives the role itself, and a role chained from it only when listed:
// granting a role never grants what it could reach.
func (a Grant) Grants(t grant.Target) bool {
	r, ok := t.(Target)
	if !ok {
		return false
	}
	if r.Via == "" {
		return a.Role == r.Role
	}
	return a.Role == r.Via && slices.Contains(a.ChainRoles, r.Role)
}

// Same is the same role.
func (a Grant) Same(o grant.Entry) bool {
	b, ok := o.(Grant)
	return ok && a.Role == b.Role
}

// Clone copies the chain roles.
func (a Grant) Clone() grant.Entry {
	a.ChainRoles = append([]string(nil), a.ChainRoles...)
	return a
}

// String is the role, its cap and its chain.
func (a Grant) String() string {
	s := a.Role
	if a.MaxDuration > 0 {
		s += " (max " + FormatDuration(a.MaxDuration) + ")"
	}
	if len(a.ChainRoles) > 0 {
		s += ", may chain to " + strings.Join(a.ChainRoles, ", ")
	}
	return s
}

// Traits are the role and its session cap.
func (a Grant) Traits() grant.Traits {
	return grant.Traits{Names: []string{a.Role}, MaxSession: a.MaxDuration}
}

// MarshalJSON writes the duration as a policy would ("1h").
func (a Grant) MarshalJSON() ([]byte, error) {
	v := struct {
		Role        string   `json:"role"`
		MaxDuration string   `json:"max-duration,omitempty"`
		ChainRoles  []string `json:"chain-roles,omitempty"`
	}{Role: a.Role, ChainRoles: a.ChainRoles}
	if a.MaxDuration > 0 {
		v.MaxDuration = FormatDuration(a.MaxDuration)
	}
	return json.Marshal(v)
}

// FormatDuration writes a duration the way a policy does: "1h", "15m",
// "1h30m", never "1h0m0s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Entry reads {role, max-duration, chain-roles}.
func (Policy) Entry(n grant.Node) (grant.Entry, error) {
	var a Grant
	fields, err := n.Fields([]string{"role", "max-duration", "chain-roles"}, "an aws grant is {role: arn:aws:iam::ACCOUNT:role/NAME, max-duration: 1h, chain-roles: [ARN, …]}")
	if err != nil {
		return a, err
	}
	for _, f := range fields {
		switch f.Key {
		case "role":
			s, err := f.Value.String("role is an IAM role ARN")
			if err != nil {
				return a, err
			}
			if !isGrantRoleARN(s) {
				return a, f.Value.Errorf("write the role ARN, arn:aws:iam::123456789012:role/NAME", "%q is not an IAM role ARN", s)
			}
			a.Role = s
		case "max-duration":
			d, err := sessionDuration(f.Value)
			if err != nil {
				return a, err
			}
			a.MaxDuration = d
		case "chain-roles":
			roles, err := f.Value.Strings(isGrantRoleARN,
				"chain-roles lists the IAM role ARNs this role may assume next, e.g. [arn:aws:iam::123456789012:role/NAME]")
			if err != nil {
				return a, err
			}
			a.ChainRoles = roles
		}
	}
	if a.Role == "" {
		return a, n.Errorf("add role: arn:aws:iam::ACCOUNT:role/NAME", "role is missing")
	}
	return a, nil
}

// sessionDuration reads a session cap: seconds or a Go duration, within
// what STS allows.
func sessionDuration(n grant.Node) (time.Duration, error) {
	const hint = "write a duration between 15m and 12h, e.g. 1h or 30m"
	var d time.Duration
	if v, ok := n.Int(); ok {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(12*time.Hour/time.Second) {
			return 0, n.Errorf(hint, "bad duration %q", v)
		}
		d = time.Duration(secs) * time.Second
	} else {
		s, err := n.String(hint)
		if err != nil {
			return 0, err
		}
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, n.Errorf(hint, "bad duration %q", s)
		}
	}
	if d < 15*time.Minute || d > 12*time.Hour {
		return 0, n.Errorf(hint+" (AWS sessions last 15 minutes to 12 hours)", "duration %s is out of range", d)
	}
	return d, nil
}

// isGrantRoleARN is a policy's role ARN:
// ^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$
func isGrantRoleARN(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok {
		return false
	}
	for len(rest) > 0 && rest[0] == '-' {
		n := 1
		for n < len(rest) && charset.Lower(rest[n]) {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	rest, ok = strings.CutPrefix(rest, ":iam::")
	if !ok || len(rest) < 12 || !charset.All(rest[:12], charset.Digit) {
		return false
	}
	name, ok := strings.CutPrefix(rest[12:], ":role/")
	return ok && len(name) >= 1 && len(name) <= 512 && charset.All(name, charset.Alnum, charset.Of("+=,.@_/-"))
}
