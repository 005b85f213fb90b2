// Package grant is what the policy asks of a cloud: how the cloud's entries
// under a rule's grant: and its --target are read, and whether an entry
// grants a target. Each cloud package implements Cloud; the policy reads the
// clouds from internal/clouds and never names one, so a new cloud is its
// package and one line of that list.
//
// The package holds interfaces only: a cloud package imports it, and the
// policy package imports the clouds, never the other way round.
package grant
