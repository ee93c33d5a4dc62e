# Entry points for newcomers and CI. `make demo` and `make test` start from nothing:
# they create the venv, install the local test cloud and start it as needed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
REPO := $(CURDIR)
export OS_CLIENT_CONFIG_FILE := $(REPO)/.cloud/clouds.yaml
export ANSIBLE_COLLECTIONS_PATH := $(REPO)/.ansible/collections
export ANSIBLE_PYTHON_INTERPRETER := $(REPO)/$(VENV)/bin/python
# Quiet, reproducible ansible runs in tests.
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_DEPRECATION_WARNINGS := 0

.PHONY: help venv collection cloud cloud-stop cloud-status demo test sanity units integration lint molecule docs bench clean

help:
	@echo "make demo        venv + collection + local cloud, then run playbooks/demo.yml"
	@echo "make test        sanity, unit, integration, lint and molecule tests, with a summary"
	@echo "make cloud       install (once) and start the local test cloud; make cloud-stop stops it"
	@echo "make sanity | units | integration | lint | molecule   one stage of make test"
	@echo "make docs        module pages in docs/modules; make bench runs the benchmarks"

venv: $(VENV)/.installed

$(VENV)/.installed: tests/requirements-dev.txt requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r tests/requirements-dev.txt -r requirements.txt
	touch $@

# Build the collection artifact and install it where ansible finds it (.ansible/collections).
collection: venv
	tests/scripts/install-collection

cloud:
	tests/cloud/install
	tests/cloud/start

cloud-stop:
	tests/cloud/stop

cloud-status:
	tests/cloud/status

demo: venv collection cloud
	tests/scripts/demo-seed
	$(BIN)/ansible-playbook playbooks/demo.yml

test: venv
	tests/scripts/test-all

sanity: venv
	tests/scripts/sanity

units: venv
	tests/scripts/units

integration: venv collection cloud
	tests/scripts/integration

lint: venv collection
	tests/scripts/lint

molecule: venv collection
	tests/scripts/molecule

# Module pages in docs/modules, from the modules' own documentation.
docs: venv collection
	$(BIN)/python docs/build_module_docs.py

# Side-by-side benchmarks against the local test cloud (results in bench/results).
bench: venv collection cloud
	$(BIN)/python bench/upload_memory.py --repeat 3
	$(BIN)/python bench/members.py

clean:
	rm -rf build .ansible tests/output collections
