# syntax=docker/dockerfile:1
# The keyless container image: one static binary on a distroless base (CA
# certificates, a nonroot user, nothing else).
#
#   docker build -t keyless .                 compiles from this checkout
#   docker build --build-arg BASE=gcr.io/distroless/static-debian12:debug-nonroot .
#                                             adds a busybox shell (CI images)
#
# The release (.goreleaser.yaml) sets BINARY=release: the image then copies
# the binary goreleaser built, checksummed and signed, instead of compiling a
# second one. Both are built the same way: CGO_ENABLED=0, -trimpath, -s -w.
ARG GO_VERSION=1.26.8
ARG BASE=gcr.io/distroless/static-debian12:nonroot
ARG BINARY=source

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS source
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X github.com/keyless-dev/keyless/internal/buildinfo.Version=${VERSION} -X github.com/keyless-dev/keyless/internal/buildinfo.Commit=${COMMIT}" \
      -o /out/keyless ./cmd/keyless

# goreleaser puts each platform's binary at <os>/<arch>/keyless in the context.
FROM scratch AS release
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/keyless /out/keyless

FROM ${BINARY} AS binary

FROM ${BASE}
COPY --from=binary /out/keyless /usr/local/bin/keyless
USER nonroot:nonroot
ENTRYPOINT ["keyless"]
