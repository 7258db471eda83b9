# Warden's developer entry points. `make test` is the README's test command
# and what CI runs; it sets up everything the tests need.

export GOTOOLCHAIN := local
GO ?= go
# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" as -fuzztime expires
# (golang/go#75804, fixed in Go 1.27), though nothing was found.
FUZZTIME ?= 50000x
BENCHCOUNT ?= 10

.PHONY: all build run test deps lint check-generated unit e2e java-oracle fuzz-smoke rego-test helm-check bench generate clean

all: build

build:
	$(GO) build -trimpath -o bin/warden ./cmd/warden

# Quick start: Warden on the sample policy, no external service.
run:
	$(GO) run ./cmd/warden serve --trino-rules deploy/examples/rules.json --policy-dir deploy/examples/policy

test: deps lint check-generated unit java-oracle rego-test helm-check fuzz-smoke

# OpenFGA server version the tests run (policy/grants/fgatest.Version).
FGA_VERSION := v1.15.0

# PostgreSQL, a JDK and make, installed when missing (as root); and the
# OpenFGA server built once into the cache outside the checkout, so test
# binaries never spend their timeout building it.
deps:
	@.ci/deps.sh
	@dir="$${WARDEN_CACHE_DIR:-$${XDG_CACHE_HOME:+$$XDG_CACHE_HOME/warden/bin}}"; \
	dir="$${dir:-$$HOME/.cache/warden/bin}/openfga-$(FGA_VERSION)"; \
	if [ ! -x "$$dir/openfga" ]; then \
		echo "building OpenFGA $(FGA_VERSION) into $$dir"; mkdir -p "$$dir"; \
		(cd /tmp && GOBIN="$$dir" GOFLAGS=-buildvcs=false $(GO) install github.com/openfga/openfga/cmd/openfga@$(FGA_VERSION)); \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Latency assertions live in benchmarks, never in these race-detector runs.
unit:
	$(GO) test -race -count=1 ./...

# End to end: a real Trino 476 (cached by deps, needs a JDK 24+) asking an
# in-process Warden; docs/e2e.md. `unit` runs these packages too, with ./...
e2e:
	$(GO) test -count=1 -v ./views/trinotest/ ./server/e2e/

# Compares policy/javaregex with java.util.regex on thousands of random
# patterns. Needs a JDK (JAVA_HOME, or java on PATH); CI requires one.
java-oracle:
	@java=$${JAVA_HOME:+$$JAVA_HOME/bin/java}; [ -x "$$java" ] || java=$$(command -v java || true); \
	if [ -z "$$java" ]; then \
		if [ -n "$$CI" ]; then echo "java-oracle: no JDK found (set JAVA_HOME)"; exit 1; fi; \
		echo "java-oracle: skipped, no JDK found"; exit 0; fi; \
	echo "java-oracle: comparing with $$java"; \
	JAVAREGEX_JAVA=$$java $(GO) test -count=1 -run '^TestJavaOracle$$' ./policy/javaregex/

rego-test:
	$(GO) run ./cmd/warden policy test -v deploy/examples/policy

# Lints and renders the Helm chart (deploy/helm/warden) and validates the
# manifests with kubeconform; helm, kubeconform and the schemas are fetched
# once into the cache outside the checkout.
helm-check:
	@.ci/helm.sh

# Each fuzz target runs briefly; longer runs: make fuzz-smoke FUZZTIME=10000000x
# (or a duration, FUZZTIME=10m, accepting the deadline flake above).
# Every decoder of outside input has a target here.
FUZZ_TARGETS = \
	./policy/trino/:FuzzDecode ./policy/javaregex/:FuzzCompile ./policy/fbac/:FuzzParse \
	./webhooks/scim/:FuzzFilter ./webhooks/scim/:FuzzPatch ./webhooks/events/:FuzzDecode \
	./webhooks/standard/:FuzzParseSignatures ./webhooks/standard/:FuzzVerify \
	./webhooks/keycloak/:FuzzDecode ./webhooks/keycloak/:FuzzVerifySignature \
	./server/audit/:FuzzParseQueryEvent ./server/audit/:FuzzReadSegment \
	./views/sqlgen/:FuzzParseType ./views/sqlgen/:FuzzParseQualifiedName ./views/sqlgen/:FuzzPredicateTemplate \
	./views/sqlgen/:FuzzCustomMask ./views/sqlgen/:FuzzMaskSpec
fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$pkg $$fn"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# All runtime SQL lives in sql/*.sql; sqlc generates store/internal/db from
# it and the migrations. The generated code is committed.
generate:
	rm -rf store/internal/db && $(GO) tool sqlc generate

# Fails if regenerating changes, adds or removes anything.
check-generated: generate
	@git diff --exit-code -- store/internal/db || { echo "store/internal/db is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- store/internal/db)" || { echo "store/internal/db has files that generation does not make:"; git status --porcelain -- store/internal/db; exit 1; }

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) ./policy/... ./server/...

clean:
	rm -rf bin
