# Glossa: the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
RELEASE := .build/release/glossa

.PHONY: setup build run test bench
setup:
	@bash scripts/setup.sh

build: setup
	swift build -c release --product glossa

# The main job on the embedded default model: translate the sample workflow tickets to English
# (normalize -> detect language -> translate, shards per source language, a few minutes on CPU).
# --force-restart: an out/translate-tickets/ left by another definition or other inputs is
# replaced; the same run resumes.
run: build
	$(RELEASE) run pipelines/translate-tickets.yaml --force-restart
	@echo "output in out/translate-tickets/ (manifest-rank-0.json lists every shard); a few records:"
	@for f in $$(ls out/translate-tickets/de/*.zst out/translate-tickets/ja/*.zst 2>/dev/null | head -n 2); do \
	  zstd -dc $$f | head -n 1; done

test: setup
	swift build --product glossa
	swift test
	bash scripts/test-slurm.sh

bench: build
	@bash scripts/setup-peers.sh
	$(RELEASE) bench normalize
	$(RELEASE) bench detect
	$(RELEASE) bench tokenizer
	$(RELEASE) bench engine
	$(RELEASE) bench batch
	$(RELEASE) bench constrained
	$(RELEASE) bench pipeline
	$(RELEASE) bench ranks
	$(RELEASE) bench serve
