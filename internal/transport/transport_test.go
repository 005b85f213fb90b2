package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func instant(context.Context, time.Duration) error { return nil }

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		want     int
		calls    int32
	}{
		{"503 503 200", []int{503, 503, 200}, 200, 3},
		{"429 then 200", []int{429, 200}, 200, 2},
		{"404 is an answer", []int{404, 200}, 404, 1},
		{"400 is an answer", []int{400}, 400, 1},
		{"gives up after attempts", []int{500, 500, 500, 500, 500}, 500, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := n.Add(1) - 1
				body, _ := io.ReadAll(r.Body)
				if string(body) != "payload" {
					t.Errorf("attempt %d body %q", i, body)
				}
				w.WriteHeader(tt.statuses[i])
			}))
			defer srv.Close()
			c := Client(Options{Sleep: instant})
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, strings.NewReader("payload"))
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || n.Load() != tt.calls {
				t.Fatalf("status %d after %d calls", resp.StatusCode, n.Load())
			}
		})
	}
}

func TestTimeoutIsClear(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c := Client(Options{Sleep: instant, Timeout: 50 * time.Millisecond, Attempts: 2})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		max     int64
		wantErr bool
	}{{100, false}, {99, true}} {
		c := Client(Options{MaxBody: tt.max})
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrTooLarge)) {
			t.Fatalf("max %d: err %v", tt.max, err)
		}
	}
}

func TestRetryAfterAndJitterBounds(t *testing.T) {
	rt := &roundTripper{o: Options{Backoff: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()}
	for attempt := 1; attempt < 10; attempt++ {
		d := rt.delay(attempt, nil)
		if d <= 0 || d > time.Second {
			t.Fatalf("attempt %d delay %v", attempt, d)
		}
	}
	resp := &http.Response{Header: http.Header{"Retry-After": []string{"30"}}}
	if d := rt.delay(1, resp); d != time.Second {
		t.Fatalf("retry-after capped: %v", d)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c := Client(Options{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestReadAll(t *testing.T) {
	if _, err := ReadAll(strings.NewReader("abc"), 2); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
	if b, err := ReadAll(strings.NewReader("ab"), 2); err != nil || string(b) != "ab" {
		t.Fatal(err)
	}
}

func TestUntrustedIsNotRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	retries := 0
	c := Client(Options{Sleep: instant, OnRetry: func(int, *http.Request, int, error, time.Duration) { retries++ }})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	_, err := c.Do(req)
	if err == nil || !Untrusted(err) {
		t.Fatalf("err = %v, want an untrusted certificate", err)
	}
	if retries != 0 {
		t.Fatalf("an untrusted certificate was retried %d times", retries)
	}
	if !strings.Contains(UntrustedHint("h.example"), "SSL_CERT_FILE") {
		t.Fatal("hint")
	}
}

func TestRedirects(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if len(body) > 0 {
			leaked.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	c := Client(Options{Sleep: instant})

	post, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, redirect.URL, strings.NewReader("subject_token=secret"))
	if _, err := c.Do(post); !errors.Is(err, ErrRedirect) {
		t.Fatalf("POST redirect: err = %v", err)
	}
	if leaked.Load() != 0 {
		t.Fatal("the body was replayed to the redirect's target")
	}
	get, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, redirect.URL, nil)
	resp, err := c.Do(get)
	if err != nil {
		t.Fatalf("GET redirect: %v", err)
	}
	resp.Body.Close()
}

func TestShowURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://sts.us-east-1.amazonaws.com":    "https://sts.us-east-1.amazonaws.com",
		"https://user:hunter2@sts.example.com/":  "https://***@sts.example.com/",
		"https://sts.example.com/?token=hunter2": "https://sts.example.com/?…",
		"https://sts.example.com/#hunter2":       "https://sts.example.com/#…",
		"ht tp://hunter2\x7f":                    "(a value that is not a URL)",
		"sts.example.com?x=hunter2":              "sts.example.com?…",
		"https:user:hunter2@sts.example.com":     "https:***@sts.example.com",
		"user:hunter2@sts.example.com":           "user:***@sts.example.com",
		"hunter2@sts.example.com":                "***@sts.example.com",
	} {
		got := ShowURL(in)
		if got != want || strings.Contains(got, "hunter2") {
			t.Errorf("ShowURL(%q) = %q, want %q", in, got, want)
		}
	}
}
