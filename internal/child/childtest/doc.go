// Package childtest has what tests of the refreshes of a running command
// share: a clock the test moves by hand, so that a refresh loop's timing is
// asserted as the waits it asks for.
//
//	clock := childtest.NewClock(start)
//	stop := child.KeepFresh(ctx, refreshes, clock, warn)
//	clock.Fire(t, 4*time.Minute) // the loop asked to wait 4 minutes; they pass
package childtest
