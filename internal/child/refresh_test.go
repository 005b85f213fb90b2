package child_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyless-dev/keyless/internal/child"
	"github.com/keyless-dev/keyless/internal/child/childtest"
)

func TestKeepFreshRenewsBeforeExpiry(t *testing.T) {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := childtest.NewClock(start)
	renewed := make(chan struct{}, 8)
	var mu sync.Mutex
	results := []error{nil, errors.New("the token endpoint said 503"), nil}
	calls := 0
	r := child.Refresh{Name: "token file", Expires: start.Add(6 * time.Minute), Renew: func(context.Context) (time.Time, error) {
		mu.Lock()
		defer mu.Unlock()
		err := results[calls]
		calls++
		renewed <- struct{}{}
		if err != nil {
			return time.Time{}, err
		}
		// Each fresh token lives 6 minutes from when it was minted.
		return clock.Now().Add(6 * time.Minute), nil
	}}
	var warnings []string
	var wmu sync.Mutex
	stop := child.KeepFresh(context.Background(), []child.Refresh{r}, clock, func(f string, a ...any) {
		wmu.Lock()
		defer wmu.Unlock()
		warnings = append(warnings, fmt.Sprintf(f, a...))
	})
	clock.Fire(t, 4*time.Minute) // two thirds of 6 minutes: renewed with 2 to spare
	<-renewed
	clock.Fire(t, 4*time.Minute) // the new token's two thirds
	<-renewed                    // fails: tried again soon, before the old one expires
	clock.Fire(t, child.RetryWait)
	<-renewed
	if d := <-clock.Waits(); d != 4*time.Minute { // and the loop goes on
		t.Errorf("after the retry, the loop waits %s", d)
	}
	stop()
	wmu.Lock()
	defer wmu.Unlock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "token file not renewed") || !strings.Contains(warnings[0], "503") {
		t.Errorf("warnings: %q", warnings)
	}
}

func TestKeepFreshStopsWhenTheSourceCannotRenew(t *testing.T) {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := childtest.NewClock(start)
	exp := start.Add(3 * time.Minute)
	done := make(chan string, 1)
	stop := child.KeepFresh(context.Background(), []child.Refresh{{Name: "f", Expires: exp,
		Renew: func(context.Context) (time.Time, error) { return exp, nil }}}, clock,
		func(f string, a ...any) { done <- fmt.Sprintf(f, a...) })
	defer stop()
	clock.Fire(t, 2*time.Minute)
	if w := <-done; !strings.Contains(w, "no newer token") {
		t.Errorf("warning %q", w)
	}
	select {
	case d := <-clock.Waits():
		t.Errorf("the loop went on (waits %s)", d)
	default:
	}
}
