// Package handover describes what a cloud exchange hands to the job: the
// environment variables later steps read, the step outputs, the files the
// clouds' own SDKs look for, and the identity facts for progress lines and
// the step summary. Cloud packages build a Set; sinks deliver it. Keeping the
// description separate from the delivery is what makes a run all or nothing:
// every cloud's Set exists before a single byte is written.
package handover
