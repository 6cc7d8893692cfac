# gresty's build, test and benchmark entry points.

GO        ?= go
BIN       := bin/gresty
PKGS      := ./...
FUZZTIME  ?= 30s

.PHONY: all build run test test-race vet fmt bench bench-quick fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gresty

# run starts gresty in the foreground on its embedded default
# configuration (http://127.0.0.1:8080/).
run: build
	./$(BIN)

# test builds the binary the end-to-end tests drive, then runs every
# package's tests; the event loop runs its suite on both poller backends.
test: build vet
	GRESTY_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 12m $(PKGS)

test-race: build
	GRESTY_BINARY=$(CURDIR)/$(BIN) $(GO) test -race -count=1 -timeout 20m ./eventloop/... ./http/...

vet:
	$(GO) vet $(PKGS)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench runs the side-by-side benchmark against the nginx installed on the
# machine and the Go micro-benchmarks, and writes bench/results/latest.md
# (see bench/README.md). BENCHFLAGS adds driver flags: -rt on a machine
# shared with other work, -aa to run nginx against itself.
bench: build
	$(GO) run ./bench/cmd/gresty-bench -binary $(CURDIR)/$(BIN) $(BENCHFLAGS)

bench-quick: build
	$(GO) run ./bench/cmd/gresty-bench -binary $(CURDIR)/$(BIN) -quick $(BENCHFLAGS)

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@for target in $$($(GO) test -list 'Fuzz.*' $(PKGS) 2>/dev/null | grep -E '^(Fuzz|ok)' | awk '/^Fuzz/{names[n++]=$$1; next} {for (i = 0; i < n; i++) print $$2":"names[i]; n = 0}'); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "== $$pkg $$name"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg || exit 1; \
	done

clean:
	rm -rf bin
