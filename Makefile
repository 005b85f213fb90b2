# keyless developer tasks. `make test` is the README's test command; `make ci`
# is what CI runs. Only `race` needs cgo (a C compiler); only `lint` and `ci`
# install tools (pinned, from the Go module proxy and Debian).
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/keyless-dev/keyless/internal/buildinfo.Version=$(VERSION) \
	-X github.com/keyless-dev/keyless/internal/buildinfo.Commit=$(COMMIT)

.PHONY: build test race cover lint fmt fuzz bench tools ci

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/keyless ./cmd/keyless

test:
	$(GO) test ./...

race:
	$(GO) test -race ./...

cover:
	$(GO) test -cover ./...

lint: tools
	$(GO) vet ./...
	$(GOBIN)/golangci-lint run ./...

fmt:
	git ls-files -z "*.go" | xargs -0 gofmt -w

fuzz:
	FUZZ_STRICT=1 FUZZ_KEEP=1 bash .ci/fuzz 30s

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

tools:
	bash .ci/tools

ci:
	bash .ci/run
