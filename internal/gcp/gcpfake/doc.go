// Package gcpfake is a fake of Google's Security Token Service, IAM
// Credentials API and token introspection for tests: one httptest server on
// loopback that answers the calls workload identity federation makes, as
// keyless makes them and as gcloud and the Google SDKs make them when they
// refresh through an external_account file. It checks the shape of every
// request, records it, and hands out tokens that name their kind, so a test
// can tell which call a token came from. Tests queue error replies per
// endpoint, or make one stick.
//
// It does not import the gcp package, so that package's own tests can use
// it.
package gcpfake
