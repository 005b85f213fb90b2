// Package record is what a login remembers about what it wrote, so that
// `keyless logout` can undo exactly that on a runner that outlives the job:
// the files it created (removed only if they still hold what keyless
// wrote), the profiles it put into shared files such as ~/.aws/config
// (removed, every other profile kept), the az accounts it logged in, and the
// variables it exported through GITHUB_ENV (blanked, as the peers' post
// steps do).
//
// A record holds names, paths and fingerprints, never a secret. The sink
// writes it inside the login's transaction, next to the credentials:
//
//	rec := record.New(dir, time.Now())
//	rec.AddFile(record.File{Path: tokenFile, Created: true}, content)
//	data, _ := rec.Marshal() // written as dir/keyless-record-….json
//
// and logout reads every record it is pointed at, newest first:
//
//	recs, _ := record.Find(record.Where{Dir: dir})
//	for _, r := range recs {
//		rep, err := sink.Undo(r) // files and profiles; az and GITHUB_ENV are app's
//		…
//	}
package record
