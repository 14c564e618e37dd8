# The two commands a newcomer needs: `make plan` (what `pulumi up` would create, offline) and
# `make test` (everything CI checks). `make test` installs its own Debian and npm packages first.
STACK ?= dev
A ?= staging
B ?= prod

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
ACTIONLINT  := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
# python3 with the pinned boto3, botocore and moto, plus the Debian report libraries that
# scripts/test-deps.sh links into build/test-python/ (and nothing else of Debian's dist-packages).
PYTHON      := PYTHONPATH=$(CURDIR)/build/test-python python3
PYTESTS     := $(PYTHON) -m unittest discover -s serverless/functions/tests -t serverless/functions

.PHONY: test test-deps plan diff lint build settings lambdas runtime-calls bench

## test: installs the test dependencies, then go vet, the Go tests (every stack under Pulumi mocks) and the Lambda tests
test: test-deps
	go vet ./...
	go test ./...
	$(PYTESTS)

## runtime-calls: records again the AWS calls each function makes (after changing a handler);
## the IAM check simulates them against each function's role
runtime-calls: test-deps
	cd serverless/functions && RECORD_RUNTIME_CALLS=1 $(PYTHON) -m unittest tests.test_runtime_calls

## test-deps: the Debian and npm packages the tests use (idempotent; apt-get needs root or sudo)
test-deps:
	scripts/test-deps.sh

## bench: the reports' benchmarks (PDF of long text, 31 and 366 days of audit) with time, memory and requests
bench: test-deps
	$(PYTHON) serverless/functions/tests/bench_reports.py $(CASES)

## plan: the offline plan of STACK (dev by default); STRICT=1 fails on a security finding;
## BASE=<git ref>: instead, what the change since that ref would update, replace or delete
plan:
ifdef BASE
	go run ./cmd/changes -stack $(STACK) -base $(BASE)
else
	go run ./cmd/plan -stack $(STACK) $(if $(STRICT),-strict)
endif

## diff: settings and resources that differ between stacks A and B
diff:
	go run ./cmd/diff -a $(A) -b $(B)

## lint: formatting, vet, staticcheck, workflows and scripts
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	GOFLAGS= go run $(STATICCHECK) ./...
	GOFLAGS= go run $(ACTIONLINT)
	shellcheck scripts/*.sh storage/testdata/*.sh  # the instance boot scripts are templates: go test ./compute checks them rendered

## lambdas: each function's dependency layer (build/layers/<fn>.zip) from its requirements.txt, for
## python3.13 on arm64; needs the package index. `pulumi up` refuses to run without it.
lambdas:
	python3 scripts/build_layers.py

## build: the program binary, as `pulumi up` builds it
build:
	go build -o bin/canalco .

## settings: regenerate Pulumi.yaml and docs/settings.md from the settings package
settings:
	go run ./cmd/settingsgen
