package grant

import "time"

// Cloud is one cloud's part of the policy.
type Cloud interface {
	// Name is the cloud's key under grant: and its --target prefix.
	Name() string
	// Entry reads one entry of the cloud's grant: list.
	Entry(n Node) (Entry, error)
	// Target reads a --target without its "NAME:" prefix. The error
	// message follows `target "…": ` and the hint is TargetForm's.
	Target(s string) (Target, error)
	// TargetForm is the --target syntax, prefix included, for hints.
	TargetForm() string
}

// Entry is one identity a rule may receive in one cloud. Entries are
// immutable once read: Clone exists for the slices they hold.
type Entry interface {
	// Cloud is the Name of the entry's cloud.
	Cloud() string
	// Grants reports whether the entry gives t. An entry never grants a
	// target of another cloud, nor what its identity could reach unless
	// the entry lists it (a chained role, a delegate).
	Grants(t Target) bool
	// Same reports whether o names the same identity: a decision holds
	// each identity once.
	Same(o Entry) bool
	// Clone is a deep copy, so a view cannot alias a compiled policy.
	Clone() Entry
	// String is the entry as policy explain shows it, after the cloud's
	// name.
	String() string
	// Traits are what policy lint reads to guess whether it deploys.
	Traits() Traits
}

// Traits are an entry's hints for policy lint.
type Traits struct {
	// Names are identity names that may say what it is for (deploy,
	// prod, admin...).
	Names []string
	// MaxSession is the session cap the entry sets, zero for none.
	MaxSession time.Duration
}

// Target is one identity a run asks to hold. A run that chains or delegates
// holds several; each is a Target of its own, and every one must be
// granted. Targets are comparable values.
type Target interface {
	// Cloud is the Name of the target's cloud.
	Cloud() string
	// String is the --target form, prefix included.
	String() string
	MarshalText() ([]byte, error)
}

// Node is one value of a policy file, as a cloud reads its grant entries:
// errors built from it say file:line: where: what, with a hint.
type Node interface {
	// Fields reads a mapping whose keys are all in known, in file order.
	Fields(known []string, hint string) ([]Field, error)
	// String reads a non-empty string.
	String(hint string) (string, error)
	// Strings reads a non-empty list of distinct strings that each pass
	// valid.
	Strings(valid func(string) bool, hint string) ([]string, error)
	// Int is the value as written when it is an integer.
	Int() (string, bool)
	// Errorf is an error at this node.
	Errorf(hint, format string, args ...any) error
}

// Field is one key of a mapping and its value.
type Field struct {
	Key   string
	Value Node
}
