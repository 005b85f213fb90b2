// Package ini edits the INI files that the AWS CLI and SDKs read (the shared
// config and credentials files) one section at a time, keeping every other
// byte: a login replaces its own profile and leaves the user's, and a logout
// takes out only what the login put in.
//
//	merged := ini.ReplaceSection(existing, []string{"profile ci"}, []byte("[profile ci]\nregion = eu-west-1\n"))
//	cleaned := ini.ReplaceSection(merged, []string{"profile ci"}, nil) // removes it again
package ini
