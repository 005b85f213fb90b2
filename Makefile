# keyless developer tasks. `make test` is the test command CI runs.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/keyless-dev/keyless/internal/buildinfo.Version=$(VERSION) \
	-X github.com/keyless-dev/keyless/internal/buildinfo.Commit=$(COMMIT)

.PHONY: build test lint fmt fuzz bench tools ci

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/keyless ./cmd/keyless

test:
	$(GO) test -race ./...

lint:
	$(GO) vet ./...
	golangci-lint run ./...

fmt:
	git ls-files -z "*.go" | xargs -0 gofmt -w

fuzz:
	bash .ci/fuzz 30s

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

tools:
	bash .ci/tools

ci:
	bash .ci/run
