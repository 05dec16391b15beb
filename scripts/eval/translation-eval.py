#!/usr/bin/env python3
"""Run Glossa's translate stage over the parallel evaluation set and score it with chrF++.

    translation-eval.py --set /work/eval/parallel/parallel.jsonl \\
        --glossa .build/debug/glossa --work /work/eval/runs [--variant NAME] \\
        [--extra-yaml 'key: value' ...] [--engine-yaml 'key: value' ...] \\
        [--limit N] [--languages de,ja] [--directions de:en,en:ja] [--threads N] [--model PATH]
    translation-eval.py --compare /work/eval/runs/summary-base.json /work/eval/runs/summary-x.json

For every target language of the (filtered) set it writes, under WORK/VARIANT/to-TARGET/,
input.jsonl ({"id", "text", "glossa": {"language": SOURCE}}), pipeline.yaml (one translate
stage; metadata_field: glossa, so the stage reads the source language from glossa.language),
then runs `glossa run pipeline.yaml --force-restart` and reads the zstd JSONL shards of out/
(kept records: translation.text and any glossa.qa.flags; rejects/: the reason). Scores use sacrebleu's chrF++
(`sacrebleu.metrics.CHRF(word_order=2)`, corpus level), per direction and overall:
  chrf       all items, a rejected or missing item scored as an empty translation
  chrf_kept  the kept items only
The summary goes to stdout and WORK/summary-VARIANT.json; every item with its hypothesis and
sentence chrF++ to WORK/VARIANT/hypotheses.jsonl.

--extra-yaml is text appended to the translate stage's mapping (e.g. 'enforce: false' or
'max_tokens: 128'; a key given there replaces the script's default of the same name);
--engine-yaml likewise for the engine mapping.

Seconds: one glossa run per target language, so an en->X direction has its run's wall time;
the X->en directions share the run to English, whose time is divided between them by source
characters (marked "seconds_shared": true).

sacrebleu and zstandard come from a venv outside the repository (see scripts/eval/README.md):
started with another Python, the script re-runs itself with /work/venvs/eval/bin/python when
that exists (or $GLOSSA_EVAL_PYTHON).
"""

import argparse
import collections
import io
import json
import os
import shutil
import subprocess
import sys
import time

VENV_PYTHON = os.environ.get("GLOSSA_EVAL_PYTHON", "/work/venvs/eval/bin/python")

try:
    import sacrebleu
    from sacrebleu.metrics import CHRF
except ImportError:
    # (A venv's python is a symlink to the system one: compare prefixes, not resolved paths.)
    if os.path.exists(VENV_PYTHON) and os.path.abspath(sys.prefix) != os.path.dirname(os.path.dirname(os.path.abspath(VENV_PYTHON))) \
            and not os.environ.get("GLOSSA_EVAL_REEXEC"):
        os.environ["GLOSSA_EVAL_REEXEC"] = "1"
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("translation-eval: sacrebleu is missing; set up the venv: python3 -m venv /work/venvs/eval && "
             "/work/venvs/eval/bin/pip install sacrebleu zstandard (see scripts/eval/README.md)")

try:
    import zstandard
except ImportError:
    zstandard = None

DEFAULT_MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


# ---------------------------------------------------------------------------- set and inputs

def direction_key(source, target):
    return f"{source}>{target}"


def load_set(path, limit=None, languages=None, directions=None):
    items = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    items.sort(key=lambda r: r["id"])
    if languages:
        items = [r for r in items if r["source_lang"] in languages or r["target_lang"] in languages]
    if directions:
        items = [r for r in items if (r["source_lang"], r["target_lang"]) in directions]
    if limit is not None:
        seen = collections.Counter()
        kept = []
        for r in items:
            d = (r["source_lang"], r["target_lang"])
            if seen[d] < limit:
                seen[d] += 1
                kept.append(r)
        items = kept
    return items


def with_spans(items):
    """The same pairs with protected spans added to both sides where their place does not depend
    on the language: a ticket id and a mention before the sentence, a URL and inline code after
    it, so the reference stays a correct translation of the source."""
    out = []
    for n, r in enumerate(items):
        head = f"OPS-{1000 + n} @dev{n}.ops:" if n % 2 == 0 else f"@dev{n}.ops OPS-{1000 + n}:"
        tail = f"(https://tracker.example.com/issues/{n}, `retry_{n}.sh`)"
        r = dict(r)
        r["text"] = f"{head} {r['text']} {tail}"
        r["reference"] = f"{head} {r['reference']} {tail}"
        out.append(r)
    return out


def q(value):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def indent(text, spaces):
    pad = " " * spaces
    return "".join(pad + line + "\n" for line in text.splitlines() if line.strip())


def keys_of(snippets):
    keys = set()
    for s in snippets:
        for line in s.splitlines():
            if line and not line[0].isspace() and ":" in line and not line.lstrip().startswith("#"):
                keys.add(line.split(":", 1)[0].strip())
    return keys


def pipeline_yaml(name, target, input_path, out_dir, model, args):
    extra = args.extra_yaml or []
    translate = {"target": target, "fields": "[text]", "max_tokens": str(args.max_tokens)}
    overridden = keys_of(extra)
    lines = [
        f"# Written by scripts/eval/translation-eval.py (variant {args.variant}); regenerated on every run.",
        f"name: {q(name)}",
        "input:",
        f"  paths: [{q(input_path)}]",
        "  format: jsonl",
        "  fields: [text]",
        "metadata_field: glossa",
        "engine:",
    ]
    if "model" not in keys_of(args.engine_yaml or []):
        lines.append(f"  model: {q(model)}")
    engine = indent("\n".join(args.engine_yaml or []), 2)
    if engine:
        lines.append(engine.rstrip("\n"))
    lines += ["stages:", "  - translate:"]
    for key, value in translate.items():
        if key not in overridden:
            lines.append(f"      {key}: {q(value) if key == 'target' else value}")
    tail = indent("\n".join(extra), 6)
    if tail:
        lines.append(tail.rstrip("\n"))
    lines += [
        "output:",
        f"  dir: {q(out_dir)}",
        '  path: "part-${rank}-${shard}.jsonl.zst"',
    ]
    return "\n".join(lines) + "\n"


def guess_repo(glossa):
    """The Glossa checkout a binary at REPO/.build/.../glossa belongs to, or None."""
    path = os.path.realpath(glossa)
    while path != os.path.dirname(path):
        path = os.path.dirname(path)
        if os.path.basename(path) == ".build":
            return os.path.dirname(path)
    return None


def resolve_model(args):
    if args.model:
        return os.path.abspath(args.model) if os.path.exists(args.model) else args.model
    if os.environ.get("GLOSSA_MODELS"):
        return "default"
    repo = guess_repo(args.glossa)
    if repo and os.path.exists(os.path.join(repo, "models", DEFAULT_MODEL_FILE)):
        return os.path.join(repo, "models", DEFAULT_MODEL_FILE)
    return "default"


# ---------------------------------------------------------------------------- outputs

def read_zst_lines(path):
    if zstandard is not None:
        with open(path, "rb") as f:
            reader = zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True)
            data = reader.read()
            while True:
                more = reader.read()
                if not more:
                    break
                data += more
    else:
        data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    return data.decode("utf-8").splitlines()


def read_output(out_dir):
    """{id: (translated text, qa flags)} of kept records and {id: reason} of rejects under out_dir."""
    kept, rejected = {}, {}
    for root, dirs, files in os.walk(out_dir):
        dirs[:] = sorted(d for d in dirs if d != ".glossa")
        rel = os.path.relpath(root, out_dir)
        is_rejects = rel.split(os.sep)[0] == "rejects"
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".jsonl.zst"):
                lines = read_zst_lines(path)
            elif name.endswith(".jsonl"):
                lines = open(path, encoding="utf-8").read().splitlines()
            else:
                continue
            for line in lines:
                if not line.strip():
                    continue
                obj = json.loads(line)
                if is_rejects:
                    try:
                        rid = json.loads(obj.get("record", "{}")).get("id")
                    except json.JSONDecodeError:
                        rid = None
                    rejected[rid if rid is not None else f"{name}:{obj.get('line')}"] = obj.get("reason", "?")
                else:
                    translation = obj.get("translation") or {}
                    text = translation.get("text") if isinstance(translation, dict) else None
                    # Quality-check flags of a kept record, when the stage writes them (glossa.qa.flags).
                    meta = obj.get("glossa") if isinstance(obj.get("glossa"), dict) else {}
                    qa = meta.get("qa") if isinstance(meta.get("qa"), dict) else {}
                    flags = [f for f in qa.get("flags", []) if isinstance(f, str)]
                    kept[obj.get("id")] = (text if isinstance(text, str) else "", flags)
    return kept, rejected


def read_manifests(out_dir):
    out = []
    if os.path.isdir(out_dir):
        for name in sorted(os.listdir(out_dir)):
            if name.startswith("manifest-rank-") and name.endswith(".json"):
                try:
                    m = json.load(open(os.path.join(out_dir, name)))
                except (OSError, json.JSONDecodeError):
                    continue
                out.append({k: m.get(k) for k in ("records_in", "records_out", "rejected", "reject_reasons", "stages")})
    return out


# ---------------------------------------------------------------------------- runs

def run_target(target, items, args, model, variant_dir):
    run_dir = os.path.join(variant_dir, f"to-{target}")
    out_dir = os.path.join(run_dir, "out")
    os.makedirs(run_dir, exist_ok=True)
    input_path = os.path.join(run_dir, "input.jsonl")
    with open(input_path, "w", encoding="utf-8") as f:
        for r in items:
            f.write(json.dumps({"id": r["id"], "text": r["text"], "glossa": {"language": r["source_lang"]}},
                               ensure_ascii=False) + "\n")
    yaml_path = os.path.join(run_dir, "pipeline.yaml")
    with open(yaml_path, "w", encoding="utf-8") as f:
        f.write(pipeline_yaml(f"eval-{args.variant}-to-{target}", target, input_path, out_dir, model, args))
    info = {"target": target, "records": len(items), "pipeline": yaml_path, "seconds": None, "exit": None}
    if args.score_only:
        info["manifests"] = read_manifests(out_dir)
        return info, out_dir
    # A matching earlier run would resume (skip its finished units, so no timing): start afresh.
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    cmd = [args.glossa, "run", yaml_path, "--force-restart"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    repo = guess_repo(args.glossa)
    log_path = os.path.join(run_dir, "run.log")
    print(f"[{target}] {len(items)} records: {' '.join(cmd)}", file=sys.stderr, flush=True)
    start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=repo or os.getcwd())
    info["seconds"] = round(time.monotonic() - start, 3)
    info["exit"] = proc.returncode
    info["log"] = log_path
    if proc.returncode != 0:
        tail = open(log_path, errors="replace").read().strip().splitlines()[-5:]
        info["error"] = "\n".join(tail)
        print(f"[{target}] glossa exited {proc.returncode}:\n  " + "\n  ".join(tail), file=sys.stderr)
    info["manifests"] = read_manifests(out_dir)
    return info, out_dir


# ---------------------------------------------------------------------------- scoring

def chrf_metric():
    return CHRF(word_order=2)


def chrf_signature():
    metric = chrf_metric()
    metric.corpus_score(["x"], [["x"]])     # the signature needs the number of references
    return str(metric.get_signature())


def corpus_chrf(hyps, refs):
    if not refs:
        return None
    return round(chrf_metric().corpus_score(hyps, [refs]).score, 2)


def score(items, results, run_info):
    """results: {id: (status, hypothesis, reject reason or the kept record's qa flags)}."""
    by_dir = collections.defaultdict(list)
    for r in items:
        by_dir[(r["source_lang"], r["target_lang"])].append(r)
    # Seconds per direction: an en->X run is its own; the run to en is divided by source chars.
    chars = collections.Counter()
    for r in items:
        chars[(r["source_lang"], r["target_lang"])] += len(r["text"])
    per_target_chars = collections.Counter()
    for (s, t), c in chars.items():
        per_target_chars[t] += c
    sentence = chrf_metric()
    directions = {}
    for (s, t), rs in sorted(by_dir.items()):
        hyps, refs, kept_h, kept_r = [], [], [], []
        reasons, flags = collections.Counter(), collections.Counter()
        kept = rejected = missing = 0
        for r in rs:
            status, hyp, reason = results.get(r["id"], ("missing", "", None))
            hyps.append(hyp)
            refs.append(r["reference"])
            if status == "kept":
                kept += 1
                flags.update(reason or [])
                kept_h.append(hyp)
                kept_r.append(r["reference"])
            elif status == "rejected":
                rejected += 1
                reasons[reason] += 1
            else:
                missing += 1
        run = run_info.get(t, {})
        seconds = run.get("seconds")
        shared = sum(1 for (a, b) in by_dir if b == t) > 1
        if seconds is not None and shared:
            seconds = round(seconds * chars[(s, t)] / max(per_target_chars[t], 1), 3)
        d = {"source": s, "target": t, "count": len(rs), "kept": kept, "rejected": rejected, "missing": missing,
             "reject_reasons": dict(sorted(reasons.items())), "qa_flags": dict(sorted(flags.items())),
             "chrf": corpus_chrf(hyps, refs),
             "chrf_kept": corpus_chrf(kept_h, kept_r), "seconds": seconds}
        if shared:
            d["seconds_shared"] = True
        directions[direction_key(s, t)] = d
    all_h, all_r, kept_h, kept_r = [], [], [], []
    for r in items:
        status, hyp, _ = results.get(r["id"], ("missing", "", None))
        all_h.append(hyp)
        all_r.append(r["reference"])
        if status == "kept":
            kept_h.append(hyp)
            kept_r.append(r["reference"])
    reasons, flags = collections.Counter(), collections.Counter()
    for d in directions.values():
        reasons.update(d["reject_reasons"])
        flags.update(d["qa_flags"])
    seconds = [i.get("seconds") for i in run_info.values()]
    per_dir = [d["chrf"] for d in directions.values() if d["chrf"] is not None]
    overall = {
        "count": len(items),
        "kept": sum(d["kept"] for d in directions.values()),
        "rejected": sum(d["rejected"] for d in directions.values()),
        "missing": sum(d["missing"] for d in directions.values()),
        "reject_reasons": dict(sorted(reasons.items())),
        "qa_flags": dict(sorted(flags.items())),
        "chrf": corpus_chrf(all_h, all_r),
        "chrf_kept": corpus_chrf(kept_h, kept_r),
        "chrf_macro": round(sum(per_dir) / len(per_dir), 2) if per_dir else None,
        "seconds": round(sum(s for s in seconds if s is not None), 3) if any(s is not None for s in seconds) else None,
    }
    to_en = [d["chrf"] for d in directions.values() if d["target"] == "en" and d["chrf"] is not None]
    from_en = [d["chrf"] for d in directions.values() if d["source"] == "en" and d["chrf"] is not None]
    overall["chrf_macro_to_en"] = round(sum(to_en) / len(to_en), 2) if to_en else None
    overall["chrf_macro_from_en"] = round(sum(from_en) / len(from_en), 2) if from_en else None
    per_item = []
    for r in items:
        status, hyp, reason = results.get(r["id"], ("missing", "", None))
        per_item.append({"id": r["id"], "source_lang": r["source_lang"], "target_lang": r["target_lang"],
                         "status": status,
                         "reason": reason if status == "rejected" else None,
                         "qa_flags": reason if status == "kept" else None,
                         "text": r["text"], "hypothesis": hyp,
                         "reference": r["reference"],
                         "chrf": round(sentence.sentence_score(hyp, [r["reference"]]).score, 2)})
    return directions, overall, per_item


# ---------------------------------------------------------------------------- compare

def compare(path_a, path_b):
    a, b = json.load(open(path_a)), json.load(open(path_b))
    keys = sorted(set(a["directions"]) | set(b["directions"]),
                  key=lambda k: (k.split(">")[0] != "en", k))
    def fmt(v, width=7):
        return f"{v:>{width}.2f}" if isinstance(v, (int, float)) else f"{'-':>{width}}"
    def kept(d):
        return f"{d['kept']}/{d['count']}" if d else "-"
    header = (f"{'direction':<14} {'A':>7} {'B':>7} {'delta':>7}   "
              f"{'kept A':>7} {'kept B':>7}   {'s A':>7} {'s B':>7}")
    print(f"A = {a.get('variant')} ({path_a})\nB = {b.get('variant')} ({path_b})")
    print("chrF++ with rejected items scored as empty; delta = B - A; s = seconds")
    print(header)
    print("-" * len(header))
    rows = [(k.replace(">", " -> "), a["directions"].get(k), b["directions"].get(k)) for k in keys]
    rows.append(("overall", a.get("overall"), b.get("overall")))
    for label, da, db in rows:
        ca, cb = (da or {}).get("chrf"), (db or {}).get("chrf")
        delta = cb - ca if isinstance(ca, (int, float)) and isinstance(cb, (int, float)) else None
        if label == "overall":
            print("-" * len(header))
        print(f"{label:<14} {fmt(ca)} {fmt(cb)} {('%+7.2f' % delta) if delta is not None else fmt(None)}   "
              f"{kept(da):>7} {kept(db):>7}   {fmt((da or {}).get('seconds'))} {fmt((db or {}).get('seconds'))}")
    for key, label in (("chrf_macro", "macro"), ("chrf_macro_to_en", "macro X->en"), ("chrf_macro_from_en", "macro en->X"),
                       ("chrf_kept", "overall kept")):
        ca, cb = a["overall"].get(key), b["overall"].get(key)
        delta = cb - ca if isinstance(ca, (int, float)) and isinstance(cb, (int, float)) else None
        print(f"{label:<14} {fmt(ca)} {fmt(cb)} {('%+7.2f' % delta) if delta is not None else fmt(None)}")


# ---------------------------------------------------------------------------- main

def inside_git_work_tree(path):
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        r = subprocess.run(["git", "-C", probe, "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True)
    except OSError:
        return False
    return r.returncode == 0 and r.stdout.strip() == "true"


def parse_directions(text):
    out = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            sys.exit(f"translation-eval: --directions wants SOURCE:TARGET pairs (e.g. de:en,en:zh-Hans), got {part!r}")
        s, t = part.split(":", 1)
        out.add((s, t))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="print the per-direction delta table of two summaries")
    ap.add_argument("--set", help="the set's parallel.jsonl (e.g. /work/eval/parallel/parallel.jsonl)")
    ap.add_argument("--glossa", help="the glossa binary (e.g. .build/debug/glossa)")
    ap.add_argument("--work", help="directory for pipelines, inputs, outputs and summaries (outside the repository)")
    ap.add_argument("--variant", default="base", help="name of this configuration (default: base)")
    ap.add_argument("--extra-yaml", action="append", metavar="YAML",
                    help="text appended to the translate stage's mapping, e.g. 'enforce: false' (repeatable)")
    ap.add_argument("--engine-yaml", action="append", metavar="YAML",
                    help="text appended to the engine mapping, e.g. 'batch_records: 16' (repeatable)")
    ap.add_argument("--max-tokens", type=int, default=256, help="translate.max_tokens (default 256)")
    ap.add_argument("--model", help="engine.model (default: REPO/models/%s next to the binary's checkout, "
                                    "else 'default' with GLOSSA_MODELS)" % DEFAULT_MODEL_FILE)
    ap.add_argument("--threads", help="passed to glossa run --threads")
    ap.add_argument("--limit", type=int, help="at most N items per direction (the first by id)")
    ap.add_argument("--languages", help="only directions to or from these tags, e.g. de,ja")
    ap.add_argument("--directions", help="only these SOURCE:TARGET directions, e.g. de:en,en:ja")
    ap.add_argument("--with-spans", action="store_true",
                    help="add a ticket id, a mention, a URL and inline code to both sides of every pair (see with_spans)")
    ap.add_argument("--score-only", action="store_true", help="do not run glossa; score the outputs already in WORK/VARIANT")
    args = ap.parse_args()

    if args.compare:
        compare(*args.compare)
        return 0
    if not args.set or not args.work or (not args.glossa and not args.score_only):
        ap.error("--set, --work and --glossa are required (or --compare A.json B.json)")
    if args.glossa and not args.score_only and not os.path.exists(args.glossa):
        sys.exit(f"translation-eval: no glossa binary at {args.glossa}")
    if args.glossa:
        args.glossa = os.path.abspath(args.glossa)

    languages = {s.strip() for s in args.languages.split(",")} if args.languages else None
    directions = parse_directions(args.directions) if args.directions else None
    items = load_set(args.set, args.limit, languages, directions)
    if args.with_spans:
        items = with_spans(items)
    if not items:
        sys.exit("translation-eval: no items left after --limit/--languages/--directions")

    work = os.path.abspath(args.work)
    if inside_git_work_tree(work):
        print(f"translation-eval: warning: {work} is inside a git work tree; keep runs outside the repository",
              file=sys.stderr)
    variant_dir = os.path.join(work, args.variant)
    os.makedirs(variant_dir, exist_ok=True)
    model = resolve_model(args) if args.glossa else "default"

    by_target = collections.defaultdict(list)
    for r in items:
        by_target[r["target_lang"]].append(r)
    run_info, results = {}, {}
    for target in sorted(by_target):
        info, out_dir = run_target(target, by_target[target], args, model, variant_dir)
        run_info[target] = info
        kept, rejected = read_output(out_dir) if os.path.isdir(out_dir) else ({}, {})
        for r in by_target[target]:
            if r["id"] in kept:
                text, flags = kept[r["id"]]
                results[r["id"]] = ("kept", text, flags or None)
            elif r["id"] in rejected:
                results[r["id"]] = ("rejected", "", rejected[r["id"]])

    directions_summary, overall, per_item = score(items, results, run_info)
    summary = {
        "variant": args.variant,
        "set": os.path.abspath(args.set),
        "glossa": args.glossa,
        "model": model,
        "extra_yaml": args.extra_yaml or [],
        "engine_yaml": args.engine_yaml or [],
        "max_tokens": args.max_tokens if "max_tokens" not in keys_of(args.extra_yaml or []) else "from extra_yaml",
        "limit": args.limit,
        "metric": f"chrF++ = sacrebleu.metrics.CHRF(word_order=2), corpus score; signature "
                  f"{chrf_signature()}",
        "sacrebleu": sacrebleu.__version__,
        "overall": overall,
        "directions": directions_summary,
        "runs": run_info,
    }
    with open(os.path.join(variant_dir, "hypotheses.jsonl"), "w", encoding="utf-8") as f:
        for row in per_item:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    path = os.path.join(work, f"summary-{args.variant}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    print(f"summary: {path}", file=sys.stderr)
    failed = [t for t, i in run_info.items() if i.get("exit") not in (None, 0)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
