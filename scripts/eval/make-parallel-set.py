#!/usr/bin/env python3
"""Build Glossa's held-out parallel translation evaluation set from Debian gettext catalogues.

    python3 scripts/eval/make-parallel-set.py OUT_DIR      # e.g. /work/eval/parallel

The set is kept OUTSIDE the repository: OUT_DIR should be a directory such as
/work/eval/parallel (the suggested default), never a path inside the Glossa work tree. The
script refuses an OUT_DIR inside a git work tree unless --allow-inside-repo is given. Nothing it
writes is committed; anyone can rebuild the same set from the same Debian packages.

What it writes:
  OUT_DIR/parallel.jsonl   one record a line, sorted by id:
      {"id": "de-en-003", "source_lang": "de", "target_lang": "en", "text": "...",
       "reference": "...", "origin": "git.mo", "package": "git", "locale": "de"}
  OUT_DIR/packages.txt     the Debian packages the catalogues come from (for apt-get install)
  OUT_DIR/README.md        sources, licences, selection rules, counts per direction

Source material: the compiled gettext catalogues (.mo) under /usr/share/locale/<locale>/
LC_MESSAGES/ of GPL-licensed Debian packages (git, apt, dpkg, coreutils, grep, ...). Each
catalogue pairs an English message (msgid) with a human translation (msgstr): X->en items use
the translation as the source and the English message as the reference, en->X the other way.
The package of every catalogue is looked up with `dpkg -S` and written to packages.txt.

Selection (deterministic for the same installed packages and --seed): sentence-like messages
only (msgid 40-300 characters, at least 6 words, mostly letters, at most 2 format directives,
no msgctxt, no plural forms, non-empty translation different from the msgid, no tabs, embedded
newlines only when every line reads as prose, then joined with spaces). Candidates are
de-duplicated by source text, interleaved round-robin over the catalogues (seeded shuffle of
each and of their order), dealt alternately to X->en and en->X, and each English message is used at most once in the whole set, so en->X and X->en never
share a pair and no two languages share an English sentence.
"""

import argparse
import collections
import json
import os
import random
import re
import struct
import subprocess
import sys
import unicodedata

LOCALE_ROOT = "/usr/share/locale"

# Locale directory -> (Glossa BCP-47 tag as in `glossa languages`, English name). Glossa's
# translate.target accepts only registry tags: "pt" (not "pt-BR"), "zh-Hans" (not "zh-CN").
LANGUAGES = {
    "de": ("de", "German"),
    "fr": ("fr", "French"),
    "es": ("es", "Spanish"),
    "it": ("it", "Italian"),
    "pt_BR": ("pt", "Portuguese (Brazilian references)"),
    "ru": ("ru", "Russian"),
    "ja": ("ja", "Japanese"),
    "zh_CN": ("zh-Hans", "Simplified Chinese"),
    "ko": ("ko", "Korean"),
    "pl": ("pl", "Polish"),
    "uk": ("uk", "Ukrainian"),
    "vi": ("vi", "Vietnamese"),
    "tr": ("tr", "Turkish"),
    "nl": ("nl", "Dutch"),
    "sv": ("sv", "Swedish"),
    "cs": ("cs", "Czech"),
}

# Catalogue (text domain) -> licence of the Debian package that ships it (from
# /usr/share/doc/<package>/copyright). Only GPL packages, so the licence of every item is clear.
CATALOGUES = {
    "git": "GPL-2",
    "apt": "GPL-2+",
    "libapt-pkg6.0": "GPL-2+",
    "dpkg": "GPL-2+",
    "coreutils": "GPL-3+",
    "grep": "GPL-3+",
    "findutils": "GPL-3+",
    "diffutils": "GPL-3+",
    "bash": "GPL-3+",
    "gettext-tools": "GPL-3+",
    "gettext-runtime": "GPL-3+",
    "sed": "GPL-3+",
    "tar": "GPL-3+",
    "make": "GPL-3+",
    "wget": "GPL-3+",
    "man-db": "GPL-3+",
    "psmisc": "GPL-2+",
}

# Non-Latin target scripts: a translation must be mostly in its script (drops untranslated or
# half-translated messages).
SCRIPT_CHECK = {
    "ru": re.compile(r"[\u0400-\u04FF]"),
    "uk": re.compile(r"[\u0400-\u04FF]"),
    "ja": re.compile(r"[\u3040-\u30FF\u4E00-\u9FFF]"),
    "zh_CN": re.compile(r"[\u4E00-\u9FFF]"),
    "ko": re.compile(r"[\uAC00-\uD7AF]"),
}

FORMAT = re.compile(
    r"%(?:\d+\$)?[-+ #0']*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I)?[diouxXeEfFgGaAcspn]"
    r"|%<PRI\w+>|%\([A-Za-z_]\w*\)[sdrf]|\{\d*\}|\{[A-Za-z_]\w*\}|\$\{?[A-Za-z_]\w*\}?")


def read_mo(path):
    """All (msgid, msgstr) entries of a .mo file, as raw strings (context, plurals included)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        order = "<"
    elif magic == 0xDE120495:
        order = ">"
    else:
        raise ValueError(f"{path}: not a .mo file")
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    charset = "utf-8"
    entries = []
    for k in range(count):
        olen, ooff = struct.unpack(order + "2I", data[originals + 8 * k: originals + 8 * k + 8])
        tlen, toff = struct.unpack(order + "2I", data[translations + 8 * k: translations + 8 * k + 8])
        entries.append((data[ooff: ooff + olen], data[toff: toff + tlen]))
    for msgid, msgstr in entries:
        if msgid == b"":
            m = re.search(rb"charset=([-\w]+)", msgstr)
            if m:
                charset = m.group(1).decode("ascii")
    out = []
    for msgid, msgstr in entries:
        if msgid == b"":
            continue
        try:
            out.append((msgid.decode(charset), msgstr.decode(charset)))
        except (UnicodeDecodeError, LookupError):
            continue
    return out


def letters_ratio(text):
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if unicodedata.category(c).startswith("L")) / len(chars)


PROSE_LINE_BAD_START = re.compile(r"^(\s|-|\*|•|\d+[.)]\s|usage|Usage)")


def as_prose(text):
    """The message as one line of prose, or None: trailing newlines stripped, no tabs, embedded
    newlines only when every line is prose (no indented or option/list lines), joined with a
    space."""
    text = text.rstrip("\n")
    if "\t" in text or "\r" in text:
        return None
    if "\n" in text:
        lines = text.split("\n")
        if len(lines) > 3 or any(not line.strip() or PROSE_LINE_BAD_START.match(line) for line in lines):
            return None
        text = " ".join(line.strip() for line in lines)
    text = text.strip()
    return text or None


def directives(text):
    return sorted(FORMAT.findall(text))


def sentence_like(msgid, msgstr, locale):
    """Whether a (msgid, msgstr) pair, already made prose, qualifies."""
    if not 40 <= len(msgid) <= 300:
        return False
    if len(msgid.split()) < 6:
        return False
    if letters_ratio(msgid) < 0.75 or letters_ratio(msgstr) < 0.6:
        return False
    ids = directives(msgid)
    if len(ids) > 2 or directives(msgstr) != ids:
        return False
    if msgstr == msgid or msgstr.strip() == msgid.strip():
        return False
    # Command-line option lists and usage lines are not sentences.
    if msgid.count("--") > 1 or msgid.lstrip().startswith(("-", "[", "<", "(")):
        return False
    if "[<" in msgid or "usage:" in msgid.lower() or len(re.findall(r"<[^<>\s]+>", msgid)) > 1:
        return False
    if not re.match(r"[A-Za-z]", msgid):
        return False
    ratio = len(msgstr) / len(msgid)
    if locale in ("ja", "zh_CN", "ko"):
        if not 0.15 <= ratio <= 2.0:
            return False
    elif not 0.5 <= ratio <= 2.5:
        return False
    check = SCRIPT_CHECK.get(locale)
    if check is not None:
        letters = [c for c in msgstr if unicodedata.category(c).startswith("L")]
        if not letters or sum(1 for c in letters if check.match(c)) / len(letters) < 0.5:
            return False
    return True


def candidates(locale):
    """(msgid, msgstr, origin) of every qualifying entry of the locale's catalogues, de-duplicated
    by msgid and by msgstr (first catalogue in sorted order wins)."""
    out = []
    seen_ids, seen_strs = set(), set()
    for domain in sorted(CATALOGUES):
        path = os.path.join(LOCALE_ROOT, locale, "LC_MESSAGES", domain + ".mo")
        if not os.path.exists(path):
            continue
        for raw_id, raw_str in sorted(read_mo(path)):
            if "\x04" in raw_id or "\x00" in raw_id or "\x00" in raw_str:
                continue          # msgctxt or plural forms
            msgid, msgstr = as_prose(raw_id), as_prose(raw_str)
            if msgid is None or msgstr is None:
                continue
            if not sentence_like(msgid, msgstr, locale):
                continue
            if msgid in seen_ids or msgstr in seen_strs:
                continue
            seen_ids.add(msgid)
            seen_strs.add(msgstr)
            out.append((msgid, msgstr, domain + ".mo"))
    return out


def round_robin(items, rng):
    """Items grouped by origin, each group shuffled, then interleaved round-robin over the
    origins (in a seeded order)."""
    groups = collections.defaultdict(list)
    for item in items:
        groups[item[2]].append(item)
    order = sorted(groups)
    rng.shuffle(order)
    queues = []
    for origin in order:
        group = groups[origin]
        rng.shuffle(group)
        queues.append(collections.deque(group))
    out = []
    while queues:
        for q in list(queues):
            out.append(q.popleft())
            if not q:
                queues.remove(q)
    return out


def package_of(path):
    try:
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.split(":", 1)[0].strip() or None


def package_version(package):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True,
                              text=True, check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def inside_git_work_tree(path):
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        r = subprocess.run(["git", "-C", probe, "rev-parse", "--is-inside-work-tree"],
                           capture_output=True, text=True)
    except OSError:
        return False
    return r.returncode == 0 and r.stdout.strip() == "true"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?", default="/work/eval/parallel",
                    help="output directory OUTSIDE the repository (default: /work/eval/parallel)")
    ap.add_argument("--per-direction", type=int, default=12, help="items per direction (default 12)")
    ap.add_argument("--seed", default="glossa-parallel-v1", help="selection seed")
    ap.add_argument("--languages", default=",".join(LANGUAGES),
                    help="comma-separated locale directories (default: %(default)s)")
    ap.add_argument("--allow-inside-repo", action="store_true",
                    help="write into a git work tree anyway (the set must not be committed)")
    args = ap.parse_args()

    if inside_git_work_tree(args.out_dir) and not args.allow_inside_repo:
        sys.exit(f"make-parallel-set: {args.out_dir} is inside a git work tree; the evaluation set "
                 "stays outside the repository (e.g. /work/eval/parallel)")

    n = args.per_direction
    used_english = set()
    records, skipped = [], []
    origins_used = collections.Counter()
    for locale in args.languages.split(","):
        locale = locale.strip()
        if locale not in LANGUAGES:
            sys.exit(f"make-parallel-set: unknown locale {locale!r} (known: {', '.join(LANGUAGES)})")
        tag, _name = LANGUAGES[locale]
        rng = random.Random(f"{args.seed}:{locale}")
        pool = [c for c in round_robin(candidates(locale), rng) if c[0] not in used_english]
        if len(pool) < 2 * n:
            skipped.append((locale, len(pool)))
            print(f"make-parallel-set: skipping {locale}: {len(pool)} candidates < {2 * n}", file=sys.stderr)
            continue
        # Alternate, so both directions draw from every catalogue.
        to_en, from_en = pool[0: 2 * n: 2], pool[1: 2 * n: 2]
        for k, (msgid, msgstr, origin) in enumerate(to_en, 1):
            records.append({"id": f"{tag}-en-{k:03d}", "source_lang": tag, "target_lang": "en",
                            "text": msgstr, "reference": msgid, "origin": origin, "locale": locale})
        for k, (msgid, msgstr, origin) in enumerate(from_en, 1):
            records.append({"id": f"en-{tag}-{k:03d}", "source_lang": "en", "target_lang": tag,
                            "text": msgid, "reference": msgstr, "origin": origin, "locale": locale})
        for msgid, _s, origin in to_en + from_en:
            used_english.add(msgid)
            origins_used[(locale, origin)] += 1

    # Which Debian package ships each catalogue used (dpkg -S), for set-up and the README.
    packages = {}
    for (locale, origin) in sorted(origins_used):
        path = os.path.join(LOCALE_ROOT, locale, "LC_MESSAGES", origin)
        packages[(locale, origin)] = package_of(path)
    for r in records:
        r["package"] = packages[(r["locale"], r["origin"])]
    records.sort(key=lambda r: r["id"])

    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "parallel.jsonl"), "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: r[k] for k in ("id", "source_lang", "target_lang", "text", "reference",
                                                 "origin", "package", "locale")}, ensure_ascii=False) + "\n")
    package_names = sorted({p for p in packages.values() if p})
    with open(os.path.join(args.out_dir, "packages.txt"), "w") as f:
        f.write("\n".join(package_names) + "\n")

    directions = collections.Counter((r["source_lang"], r["target_lang"]) for r in records)
    by_origin = collections.Counter(r["origin"] for r in records)
    write_readme(args, records, directions, by_origin, packages, skipped)

    print(f"wrote {len(records)} items to {os.path.join(args.out_dir, 'parallel.jsonl')}")
    for (s, t), c in sorted(directions.items()):
        print(f"  {s:>7} -> {t:<7} {c}")
    print(f"  languages: {len({r['locale'] for r in records})}, directions: {len(directions)}")
    print(f"  by catalogue: " + ", ".join(f"{o} {c}" for o, c in sorted(by_origin.items())))
    print(f"  Debian packages: {' '.join(package_names)}")
    if any(p is None for p in packages.values()):
        print("  warning: dpkg -S found no package for: " +
              ", ".join(f"{l}/{o}" for (l, o), p in packages.items() if p is None), file=sys.stderr)


def write_readme(args, records, directions, by_origin, packages, skipped):
    domain_package = {}
    for (_locale, origin), package in packages.items():
        domain_package.setdefault(origin, set()).add(package or "?")
    lines = [
        "# Glossa parallel evaluation set",
        "",
        "Held-out parallel sentences for evaluating Glossa's `translate` stage in both directions",
        "(English -> X and X -> English). Built by `scripts/eval/make-parallel-set.py` from the Glossa",
        "repository; this directory is kept outside the repository and is never committed.",
        "",
        f"- items: {len(records)}, languages: {len({r['locale'] for r in records})}, "
        f"directions: {len(directions)}, per direction: {args.per_direction}",
        f"- seed: `{args.seed}`",
        "",
        "## Sources and licences",
        "",
        "Every item is one message of a gettext catalogue shipped by a Debian package: the English",
        "message (msgid) and its human translation (msgstr) from",
        "`/usr/share/locale/<locale>/LC_MESSAGES/<domain>.mo`. The translations are part of the",
        "packages' sources and are distributed under the same licence as the package (GNU GPL, see",
        "`/usr/share/doc/<package>/copyright` and `/usr/share/common-licenses/`). This set is a",
        "derived work of those catalogues and is under the same GPL terms.",
        "",
        "| catalogue | Debian package (version) | licence | items |",
        "| --- | --- | --- | --- |",
    ]
    for origin in sorted(by_origin):
        domain = origin[:-3]
        names = ", ".join(f"{p} ({package_version(p) or '?'})" for p in sorted(domain_package.get(origin, {"?"})))
        lines.append(f"| {origin} | {names} | {CATALOGUES.get(domain, '?')} | {by_origin[origin]} |")
    lines += [
        "",
        "Packages to install for a rebuild (also in `packages.txt`):",
        "",
        "    apt-get install " + " ".join(sorted({p for p in packages.values() if p})),
        "",
        "Locales used: " + ", ".join(f"`{l}` -> `{LANGUAGES[l][0]}`"
                                     for l in sorted({r['locale'] for r in records})) + ".",
        "Portuguese references are Brazilian Portuguese (`pt_BR` catalogues), tagged `pt` because",
        "Glossa's language registry has one Portuguese; Chinese references are `zh_CN`, tagged `zh-Hans`.",
        "",
        "## Selection",
        "",
        "Sentence-like messages only: msgid 40-300 characters, at least 6 words, mostly letters,",
        "at most 2 format directives (the same ones in the translation), no msgctxt, no plural",
        "forms, non-empty translation different from the msgid, no tabs, embedded newlines only when",
        "every line reads as prose (then joined with spaces); non-Latin translations mostly in their",
        "script; length ratio within loose bounds. De-duplicated by source text; round-robin over",
        "catalogues with a seeded shuffle; each English message used at most once in the set.",
        "",
        "The selection depends on the installed package versions (listed above): other versions",
        "can give a different set, so compare scores only on the same build of the set.",
        "",
        "Caveat: these catalogues are public and old, so a model may have seen them in training;",
        "the set is 'held out' from Glossa's own data and tests, not necessarily from the model.",
        "",
        "## Counts per direction",
        "",
        "| source | target | items |",
        "| --- | --- | --- |",
    ]
    for (s, t), c in sorted(directions.items()):
        lines.append(f"| {s} | {t} | {c} |")
    if skipped:
        lines += ["", "Skipped (too few candidates): " + ", ".join(f"{l} ({n})" for l, n in skipped)]
    lines += [
        "",
        "## Record format",
        "",
        "```json",
        json.dumps({"id": "de-en-001", "source_lang": "de", "target_lang": "en", "text": "...",
                    "reference": "...", "origin": "git.mo", "package": "git", "locale": "de"}),
        "```",
        "",
    ]
    with open(os.path.join(args.out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
