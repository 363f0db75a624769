# seqstake's one entry point. The two commands the README shows first:
#   make devnet   set everything up and run the main job
#   make test     set everything up and run every check and test
SHELL := /bin/bash
.DEFAULT_GOAL := help

ARCH := $(if $(filter x86_64,$(shell uname -m)),amd64,arm64)
OS := $(shell uname -s | tr '[:upper:]' '[:lower:]')
FOUNDRY_BIN := $(foreach tool,forge anvil cast,$(CURDIR)/node_modules/@foundry-rs/$(tool)-$(OS)-$(ARCH)/bin)
empty :=
space := $(empty) $(empty)
export PATH := $(subst $(space),:,$(FOUNDRY_BIN)):$(PATH)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test

STAGE := $(CURDIR)/scripts/stage
# Gas snapshots cover unit tests only: fuzz and invariant gas depends on the profile's runs,
# and the shared-vector tests' gas on the length of the checkout's path (they read files).
SNAPSHOT_TESTS := --no-match-test '^(testFuzz|invariant)|[Vv]ector'
CONTRACTS := $(CURDIR)/contracts

.PHONY: help devnet test setup artifacts gas-snapshot forge-test rust-test

help:
	@echo "make devnet     set up and run the main job: the whole system on two local chains (Ctrl-C stops it)"
	@echo "make test       set up and run every check: forge fmt/build/test, gas snapshot, artifacts, cargo fmt/clippy/test"
	@echo "make artifacts  rebuild contracts/artifacts from forge build"
	@echo "make gas-snapshot  rewrite contracts/.gas-snapshot (checked by make test)"

# npm ci only when the lock file changed since the last install.
node_modules/.seqstake-installed: package.json package-lock.json
	@$(STAGE) "npm ci" npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: node_modules/.seqstake-installed
	@$(STAGE) "cargo fetch" cargo fetch --locked

# DEVNET_ARGS passes flags to `seqstake devnet`, e.g. make devnet DEVNET_ARGS="--epochs 10".
# DEVNET_OFFLINE: by default sequencer 3 is offline for the first 3 epochs (jailed for
# downtime, then unjailed by its operator); DEVNET_OFFLINE= keeps every sequencer online.
DEVNET_OFFLINE ?= --offline 3 --offline-epochs 3
devnet: setup
	@$(STAGE) "cargo build" cargo build --locked
	@$(STAGE) "config check (devnet)" ./target/debug/seqstake config check config/devnet.toml
	./target/debug/seqstake devnet $(DEVNET_OFFLINE) $(DEVNET_ARGS)

gas-snapshot: setup
	@cd $(CONTRACTS) && $(STAGE) "gas snapshot" forge snapshot $(SNAPSHOT_TESTS)

artifacts: setup
	@cd $(CONTRACTS) && $(STAGE) "forge build" forge build
	@$(STAGE) "artifacts write" $(CONTRACTS)/bin/artifacts write

forge-test: setup
	@cd $(CONTRACTS) && $(STAGE) "forge fmt --check" forge fmt --check
	@cd $(CONTRACTS) && $(STAGE) "forge build" forge build
	@cd $(CONTRACTS) && $(STAGE) "forge test" forge test
	@cd $(CONTRACTS) && $(STAGE) "gas snapshot check" forge snapshot --check $(SNAPSHOT_TESTS)
	@$(STAGE) "artifacts check" $(CONTRACTS)/bin/artifacts check

rust-test: setup
	@$(STAGE) "cargo fmt --check" cargo fmt --all -- --check
	@$(STAGE) "cargo clippy" cargo clippy --locked --all-targets -- -D warnings
	@$(STAGE) "postgres check" scripts/postgres-check
	@$(STAGE) "cargo test" cargo test --locked

test: forge-test rust-test
	@echo
	@echo "All checks passed."
