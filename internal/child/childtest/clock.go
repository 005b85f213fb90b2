package childtest

import (
	"sync"
	"testing"
	"time"
)

// Clock hands every After to the test, which fires it by hand: a refresh
// loop's timing is asserted as the waits it asks for, never measured.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	waits  chan time.Duration
	timers chan chan time.Time
}

// NewClock is a clock standing at now.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now, waits: make(chan time.Duration, 16), timers: make(chan chan time.Time, 16)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After records the wait asked for; the channel fires when the test says.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.waits <- d
	c.timers <- ch
	return ch
}

// Waits are the waits asked for, in order.
func (c *Clock) Waits() <-chan time.Duration { return c.waits }

// Advance moves the clock on by d and fires the timer asked for with the
// wait last read from Waits.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	(<-c.timers) <- now
}

// Fire waits for the loop to ask for a timer, checks how long it wanted
// to wait, moves the clock on by that much and fires the timer.
func (c *Clock) Fire(t testing.TB, want time.Duration) {
	t.Helper()
	select {
	case d := <-c.waits:
		if d != want {
			t.Errorf("the loop waits %s, want %s", d, want)
		}
		c.Advance(d)
	case <-time.After(10 * time.Second): // bounds a failing test only
		t.Fatal("the loop never asked for a timer")
	}
}
