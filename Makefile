# ossimport — build, test and run.
#
#   make demo    sets up and runs a real migration (local files -> a local S3 server)
#   make build   builds bin/ossimport
#   make test    installs the test servers (once) and runs the whole test suite
#   make lint    gofmt, go vet, staticcheck and golangci-lint (both pinned, built through
#                the Go module proxy; golangci-lint once, into the test cache)
#   make dist    builds the distribution tarballs (distributed and standalone) into dist/
#   make fuzz    fuzzes the configuration parser for FUZZTIME (default 60s) per target

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X github.com/ossimport/ossimport/internal/version.Version=$(VERSION) \
            -X github.com/ossimport/ossimport/internal/version.Commit=$(COMMIT)
FUZZTIME ?= 60s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
TESTFLAGS ?=

.PHONY: build test test-short testenv lint fuzz clean demo dist

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ossimport ./cmd/ossimport

# ossimport-<version>-linux-{amd64,arm64}[-standalone].tar.gz in dist/.
dist:
	VERSION=$(VERSION) COMMIT=$(COMMIT) bash scripts/dist.sh

# A real migration on an embedded default: local sample data -> versitygw.
demo:
	bash scripts/demo.sh

# The test servers (versitygw, Azurite, sshd, Chromium) are installed by the
# project itself, pinned, into ~/.cache/ossimport-test; the step is a no-op
# once done.
testenv:
	bash scripts/testenv/install-all.sh

# TEST_TIMEOUT bounds each package's tests (a second -timeout in
# TESTFLAGS would not replace it: go test keeps the first).
TEST_TIMEOUT ?= 30m

test: testenv lint
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# Unit tests only: no server installs, no race detector.
test-short:
	$(GO) test -short -count=1 ./...

# golangci-lint runs the linters .golangci.yml lists (errcheck, govet,
# ineffassign, staticcheck, unused, gocritic's diagnostic checks and the
# depguard import rules that keep the layering).
lint:
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -print0 | xargs -0 gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$$(bash scripts/testenv/install-golangci-lint.sh) run ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseJob$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzParseSys$$' -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzParseWorkers$$' -fuzztime $(FUZZTIME) ./internal/config

clean:
	rm -rf bin dist
