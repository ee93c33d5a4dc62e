# Entry points for newcomers and CI. `make demo` and `make test` start from nothing:
# they create the venvs, install the local test cloud and start it as needed.
#
# Two venvs, one per end of the supported ansible-core range (meta/runtime.yml), made by
# tests/scripts/venv from tests/requirements-dev.txt and a pin file:
#   .venv         oldest line: ansible-core 2.19 on Python 3.11 (sanity, units)
#   .venv-newest  newest line: ansible-core 2.21 on Python 3.13 or 3.12 (sanity, units,
#                 integration, lint, molecule, the demo)
# PYTHON_OLDEST / PYTHON_NEWEST choose their Pythons; README.md says how they are found.

SHELL := /bin/bash
VENV := .venv-newest
BIN := $(VENV)/bin
REPO := $(CURDIR)
export OS_CLIENT_CONFIG_FILE := $(REPO)/.cloud/clouds.yaml
export ANSIBLE_COLLECTIONS_PATH := $(REPO)/.ansible/collections
export ANSIBLE_PYTHON_INTERPRETER := $(REPO)/$(VENV)/bin/python
# Quiet, reproducible ansible runs in tests.
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_DEPRECATION_WARNINGS := 0

.PHONY: help venv venv-oldest venv-newest collection cloud cloud-stop cloud-status demo test sanity units integration lint molecule docs bench clean

help:
	@echo "make demo        venv + collection + local cloud, then run playbooks/demo.yml"
	@echo "make test        every stage on both ansible-core lines, side by side, with a summary"
	@echo "make cloud       install (once) and start the local test cloud; make cloud-stop stops it"
	@echo "make sanity | units        one stage of make test, on both lines (oldest, then newest)"
	@echo "make integration | lint | molecule   one stage of make test (newest line)"
	@echo "make venv        both venvs (make venv-oldest / venv-newest: one)"
	@echo "make docs        the docsite; make bench runs the benchmarks"

venv: venv-oldest venv-newest

# Quick when up to date: the script compares a hash of the requirement files.
venv-oldest:
	tests/scripts/venv oldest

venv-newest:
	tests/scripts/venv newest

# Build the collection artifact and install it where ansible finds it (.ansible/collections).
collection: venv-newest
	tests/scripts/install-collection

cloud:
	tests/cloud/install
	tests/cloud/start

cloud-stop:
	tests/cloud/stop

cloud-status:
	tests/cloud/status

demo: venv-newest collection cloud
	tests/scripts/demo-seed
	$(BIN)/ansible-playbook playbooks/demo.yml

# Makes the venvs, the collection and the cloud itself, side by side with the first checks.
test:
	tests/scripts/test-all

# Both lines, even when the first fails.
sanity units: venv
	status=0; \
	TEST_LINE=oldest tests/scripts/$@ || status=1; \
	TEST_LINE=newest tests/scripts/$@ || status=1; \
	exit $$status

integration: venv-newest collection cloud
	tests/scripts/integration

lint: venv-newest
	tests/scripts/lint

molecule: venv-newest
	tests/scripts/molecule

# The docsite (antsibull-docs + Sphinx, in .venv-tools): build/docsite/build/html/index.html.
docs:
	tests/scripts/docs-build

# Side-by-side benchmarks against the local test cloud (results in bench/results).
bench: venv-newest collection cloud
	$(BIN)/python bench/upload_memory.py --repeat 3
	$(BIN)/python bench/members.py

clean:
	rm -rf build .ansible tests/output collections
