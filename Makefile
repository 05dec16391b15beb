# Glossa: the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
RELEASE := .build/release/glossa

.PHONY: setup build run test bench
setup:
	@bash scripts/setup.sh

build: setup
	swift build -c release --product glossa

# The main job on the embedded default: normalize the sample corpora (the second one holds
# deliberately broken records, which land in out/normalized.rejects.jsonl.zst with a reason).
run: build
	@mkdir -p out
	$(RELEASE) normalize corpora/sample-documents.jsonl.zst corpora/sample-bad-lines.jsonl.zst --output out/normalized.jsonl.zst --stats out/normalize-stats.json
	@echo "first records:"; zstd -dc out/normalized.jsonl.zst | head -n 5

test: setup
	swift test

bench: build
	@bash scripts/setup-peers.sh
	$(RELEASE) bench normalize
	$(RELEASE) bench detect
	$(RELEASE) bench tokenizer
	$(RELEASE) bench engine
