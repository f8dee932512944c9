#!/usr/bin/env python3
"""Generate crates/cmdspec/src/generated.rs from the Redis 7.2 command specs.

Reads the BSD-licensed JSON command specs (facts only: names, arity, flags, key
specs, ACL categories, argument trees, history, tips...), then Vireo's own specs in
crates/cmdspec/specs/ (commands newer than 7.2, such as Redis 7.4's hash-field
expiration, written from the facts of their documentation; a command there replaces
the 7.2 one of the same name), and Vireo's own one-line summaries from
crates/cmdspec/summaries.tsv, and writes one Rust table.

Besides copying facts, it computes what Redis derives when it populates its command
table (server.c: setImplicitACLCategories, populateCommandLegacyRangeSpec):
  * the implicit ACL categories added from command flags (@write, @read, @admin,
    @dangerous, @pubsub, @fast, @blocking, and @slow for everything not @fast);
  * the legacy (first key, last key, step) triple of COMMAND INFO and the
    MOVABLE_KEYS flag.

Usage: scripts/gen-cmdspec.py [--json-dir DIR]   (stdlib only)
"""

import argparse
import glob
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_JSON_DIR = os.path.join(os.path.dirname(ROOT), "shared", "reference", "redis-7.2-commands")
SUMMARIES = os.path.join(ROOT, "crates", "cmdspec", "summaries.tsv")
# Vireo's own specs: commands after 7.2, and 7.2 commands as later versions extend them.
OWN_JSON_DIR = os.path.join(ROOT, "crates", "cmdspec", "specs")
OUTPUT = os.path.join(ROOT, "crates", "cmdspec", "src", "generated.rs")

# Command flags known to the Rust side (crates/cmdspec/src/lib.rs, module `flags`).
COMMAND_FLAGS = {
    "WRITE", "READONLY", "DENYOOM", "MODULE", "ADMIN", "PUBSUB", "NOSCRIPT", "BLOCKING",
    "LOADING", "STALE", "SKIP_MONITOR", "SKIP_SLOWLOG", "ASKING", "FAST", "NO_AUTH",
    "MAY_REPLICATE", "SENTINEL", "ONLY_SENTINEL", "NO_MANDATORY_KEYS", "PROTECTED",
    "MODULE_GETKEYS", "MODULE_NO_CLUSTER", "NO_ASYNC_LOADING", "NO_MULTI", "MOVABLE_KEYS",
    "ALLOW_BUSY", "MODULE_GETCHANNELS", "TOUCHES_ARBITRARY_KEYS",
}
ACL_CATEGORIES = {
    "KEYSPACE", "READ", "WRITE", "SET", "SORTEDSET", "LIST", "HASH", "STRING", "BITMAP",
    "HYPERLOGLOG", "GEO", "STREAM", "PUBSUB", "ADMIN", "FAST", "SLOW", "BLOCKING",
    "DANGEROUS", "CONNECTION", "TRANSACTION", "SCRIPTING",
}
KEY_FLAGS = {
    "RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY", "INCOMPLETE",
    "VARIABLE_FLAGS",
}
DOC_FLAGS = {"DEPRECATED", "SYSCMD"}
ARG_TYPES = {
    "string": "String", "integer": "Integer", "double": "Double", "key": "Key",
    "pattern": "Pattern", "unix-time": "UnixTime", "pure-token": "PureToken",
    "oneof": "OneOf", "block": "Block",
}
# Redis's special key-extraction callbacks (db.c), used when key specs are not enough.
GETKEYS = {
    "sortGetKeys": "GetKeys::Sort",
    "sortROGetKeys": "GetKeys::SortRo",
    "migrateGetKeys": "GetKeys::Migrate",
    "georadiusGetKeys": "GetKeys::Georadius",
    "xreadGetKeys": "GetKeys::Xread",
    "setGetKeys": "GetKeys::Set",
    "bitfieldGetKeys": "GetKeys::Bitfield",
    # genericGetKeys(storeKeyOfs, keyCountOfs, firstKeyOfs, keyStep=1)
    "zunionInterDiffStoreGetKeys": "GetKeys::NumKeys { store: 1, count: 2, first: 3 }",
    "zunionInterDiffGetKeys": "GetKeys::NumKeys { store: 0, count: 1, first: 2 }",
    "sintercardGetKeys": "GetKeys::NumKeys { store: 0, count: 1, first: 2 }",
    "lmpopGetKeys": "GetKeys::NumKeys { store: 0, count: 1, first: 2 }",
    "zmpopGetKeys": "GetKeys::NumKeys { store: 0, count: 1, first: 2 }",
    "blmpopGetKeys": "GetKeys::NumKeys { store: 0, count: 2, first: 3 }",
    "bzmpopGetKeys": "GetKeys::NumKeys { store: 0, count: 2, first: 3 }",
    "evalGetKeys": "GetKeys::NumKeys { store: 0, count: 2, first: 3 }",
    "functionGetKeys": "GetKeys::NumKeys { store: 0, count: 2, first: 3 }",
}


def rs_str(s):
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    out.append('"')
    return "".join(out)


def rs_opt(s):
    return "None" if s is None else "Some(%s)" % rs_str(s)


def bits(module, names, known, what):
    for n in names:
        if n not in known:
            sys.exit("unknown %s %r" % (what, n))
    if not names:
        return "0"
    return " | ".join("%s::%s" % (module, n) for n in names)


def load_summaries():
    summaries = {}
    with open(SUMMARIES, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, summary = line.split("\t", 1)
            summaries[name] = summary
    return summaries


def implicit_acl(flags, cats):
    """setImplicitACLCategories() in server.c."""
    cats = list(cats)

    def add(c):
        if c not in cats:
            cats.append(c)

    if "WRITE" in flags:
        add("WRITE")
    # Scripting commands are not @read even when READONLY.
    if "READONLY" in flags and "SCRIPTING" not in cats:
        add("READ")
    if "ADMIN" in flags:
        add("ADMIN")
        add("DANGEROUS")
    if "PUBSUB" in flags:
        add("PUBSUB")
    if "FAST" in flags:
        add("FAST")
    if "BLOCKING" in flags:
        add("BLOCKING")
    if "FAST" not in cats:
        add("SLOW")
    return cats


def legacy_range(key_specs, flags):
    """populateCommandLegacyRangeSpec() in server.c: returns (first, last, step) as
    COMMAND INFO prints them, and whether the command gets MOVABLE_KEYS."""
    movable = False
    if not key_specs:
        return (0, 0, 0), movable

    def is_index_range(ks):
        return "index" in ks["begin_search"] and "range" in ks["find_keys"]

    if len(key_specs) == 1 and is_index_range(key_specs[0]):
        ks = key_specs[0]
        pos = ks["begin_search"]["index"]["pos"]
        rng = ks["find_keys"]["range"]
        last = rng["lastkey"]
        if "INCOMPLETE" in ks["flags"]:
            movable = True
        return (pos, last + pos if last >= 0 else last, rng["step"]), movable

    first = None
    last = 0
    prev_last = 0
    for ks in key_specs:
        if not is_index_range(ks):
            movable = True
            continue
        pos = ks["begin_search"]["index"]["pos"]
        rng = ks["find_keys"]["range"]
        if rng["step"] != 1 or (prev_last and prev_last != pos - 1):
            movable = True
            continue
        if "INCOMPLETE" in ks["flags"]:
            movable = True
        first = pos if first is None else min(first, pos)
        abs_last = rng["lastkey"]
        if abs_last >= 0:
            abs_last += pos
        # Redis compares as unsigned so that negative (relative-to-end) values win.
        last = max(last & 0xFFFFFFFF, abs_last & 0xFFFFFFFF)
        if last >= 0x80000000:
            last -= 0x100000000
        prev_last = last
    if first is None:
        return (0, 0, 0), True
    return (first, last, 1), movable


def gen_key_spec(ks):
    bs = ks["begin_search"]
    if "index" in bs:
        bs_rs = "BeginSearch::Index(%d)" % bs["index"]["pos"]
    elif "keyword" in bs:
        bs_rs = "BeginSearch::Keyword { keyword: %s, startfrom: %d }" % (
            rs_str(bs["keyword"]["keyword"]), bs["keyword"]["startfrom"])
    else:
        bs_rs = "BeginSearch::Unknown"
    fk = ks["find_keys"]
    if "range" in fk:
        r = fk["range"]
        fk_rs = "FindKeys::Range { lastkey: %d, step: %d, limit: %d }" % (
            r["lastkey"], r["step"], r["limit"])
    elif "keynum" in fk:
        k = fk["keynum"]
        fk_rs = "FindKeys::Keynum { keynumidx: %d, firstkey: %d, step: %d }" % (
            k["keynumidx"], k["firstkey"], k["step"])
    else:
        fk_rs = "FindKeys::Unknown"
    return "KeySpec { flags: %s, begin_search: %s, find_keys: %s, notes: %s }" % (
        bits("key_flags", ks["flags"], KEY_FLAGS, "key spec flag"), bs_rs, fk_rs,
        rs_opt(ks.get("notes")))


def gen_args(args, indent):
    if not args:
        return "&[]"
    pad = " " * indent
    out = ["&["]
    for a in args:
        if a["type"] not in ARG_TYPES:
            sys.exit("unknown argument type %r" % a["type"])
        fields = ["name: %s" % rs_str(a["name"]), "kind: ArgType::%s" % ARG_TYPES[a["type"]]]
        if "display" in a:
            fields.append("display_text: Some(%s)" % rs_str(a["display"]))
        if "key_spec_index" in a:
            fields.append("key_spec_index: %d" % a["key_spec_index"])
        if "token" in a:
            fields.append("token: Some(%s)" % rs_str(a["token"]))
        if "summary" in a:
            fields.append("summary: Some(%s)" % rs_str(a["summary"]))
        if "since" in a:
            fields.append("since: Some(%s)" % rs_str(a["since"]))
        if "deprecated_since" in a:
            fields.append("deprecated_since: Some(%s)" % rs_str(a["deprecated_since"]))
        aflags = [f.upper() for f in ("optional", "multiple", "multiple_token") if a.get(f)]
        if aflags:
            fields.append("flags: %s" % " | ".join("arg_flags::%s" % f for f in aflags))
        if a.get("arguments"):
            fields.append("arguments: %s" % gen_args(a["arguments"], indent + 4))
        out.append("%s    Arg { %s, ..Arg::EMPTY }," % (pad, ", ".join(fields)))
    out.append(pad + "]")
    return "\n".join(out)


def gen_command(full, c, subs, summaries, indent):
    pad = " " * indent
    flags = list(c.get("command_flags", []))
    for f in flags:
        if f not in COMMAND_FLAGS:
            sys.exit("%s: unknown command flag %r" % (full, f))
    key_specs = c.get("key_specs", [])
    (first, last, step), movable = legacy_range(key_specs, flags)
    if movable and "MOVABLE_KEYS" not in flags:
        flags.append("MOVABLE_KEYS")
    cats = implicit_acl(flags, c.get("acl_categories", []))
    if full not in summaries:
        sys.exit("no summary for %r in %s" % (full, SUMMARIES))
    gk = c.get("get_keys_function")
    if gk is not None and gk not in GETKEYS:
        sys.exit("%s: unknown get_keys_function %r" % (full, gk))

    ind = " " * (indent + 4)
    f = []
    f.append("name: %s" % rs_str(full))
    if "container" in c:
        f.append("container: Some(%s)" % rs_str(c["container"].lower()))
    f.append("arity: %d" % c["arity"])
    f.append("flags: %s" % bits("flags", flags, COMMAND_FLAGS, "command flag"))
    f.append("acl_categories: %s" % bits("acl", cats, ACL_CATEGORIES, "ACL category"))
    if (first, last, step) != (0, 0, 0):
        f.append("first_key: %d" % first)
        f.append("last_key: %d" % last)
        f.append("key_step: %d" % step)
    if key_specs:
        f.append("key_specs: &[\n%s\n%s]" % (
            "\n".join("%s    %s," % (ind, gen_key_spec(ks)) for ks in key_specs), ind))
    if gk is not None:
        f.append("get_keys: %s" % GETKEYS[gk])
    f.append("group: %s" % rs_str(c["group"].replace("_", "-")))
    f.append("since: %s" % rs_str(c["since"]))
    if "complexity" in c:
        f.append("complexity: Some(%s)" % rs_str(c["complexity"]))
    f.append("summary: %s" % rs_str(summaries[full]))
    if c.get("doc_flags"):
        f.append("doc_flags: %s" % bits("doc_flags", c["doc_flags"], DOC_FLAGS, "doc flag"))
    if "deprecated_since" in c:
        f.append("deprecated_since: Some(%s)" % rs_str(c["deprecated_since"]))
    if "replaced_by" in c:
        f.append("replaced_by: Some(%s)" % rs_str(c["replaced_by"]))
    if c.get("history"):
        f.append("history: &[\n%s\n%s]" % ("\n".join(
            "%s    (%s, %s)," % (ind, rs_str(v), rs_str(t)) for v, t in c["history"]), ind))
    if c.get("command_tips"):
        f.append("tips: &[%s]" % ", ".join(rs_str(t.lower()) for t in c["command_tips"]))
    if c.get("arguments"):
        f.append("arguments: %s" % gen_args(c["arguments"], indent + 4))
    if subs:
        parts = [gen_command(sfull, sc, [], summaries, indent + 8) for sfull, sc in subs]
        f.append("subcommands: &[\n%s\n%s]" % ("\n".join(parts), ind))
    f.append("..CommandSpec::EMPTY")
    pad = " " * indent
    lines = ["%sCommandSpec {" % pad]
    lines += ["%s%s%s" % (ind, x, "" if x.startswith("..") else ",") for x in f]
    lines.append("%s}," % pad)
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json-dir", default=DEFAULT_JSON_DIR)
    opts = ap.parse_args()

    summaries = load_summaries()
    top = {}
    subs = {}
    paths = sorted(glob.glob(os.path.join(opts.json_dir, "*.json")))
    paths += sorted(glob.glob(os.path.join(OWN_JSON_DIR, "*.json")))
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        for name, c in doc.items():
            if "container" in c:
                full = "%s|%s" % (c["container"].lower(), name.lower())
                entries = subs.setdefault(c["container"].lower(), [])
                entries[:] = [e for e in entries if e[0] != full]
                entries.append((full, c))
            else:
                top[name.lower()] = c
    for container in subs:
        if container not in top:
            sys.exit("subcommands of unknown container %r" % container)
        subs[container].sort(key=lambda x: x[0])
    known = set(top) | {full for v in subs.values() for full, _ in v}
    extra = sorted(set(summaries) - known)
    if extra:
        sys.exit("summaries for unknown commands: %s" % ", ".join(extra))

    out = [
        "// @generated — do not edit; run scripts/gen-cmdspec.py",
        "//",
        "// Facts from the Redis 7.2 command specs (BSD-3-Clause, see the reference",
        "// directory's COPYING) and crates/cmdspec/specs/ (later commands); summaries are",
        "// Vireo's own (crates/cmdspec/summaries.tsv).",
        "",
        "use crate::{acl, arg_flags, doc_flags, flags, key_flags};",
        "use crate::{Arg, ArgType, BeginSearch, CommandSpec, FindKeys, GetKeys, KeySpec};",
        "",
        "/// Every top-level command, sorted by name.",
        "pub(crate) static COMMANDS: &[CommandSpec] = &[",
    ]
    for name in sorted(top):
        out.append(gen_command(name, top[name], subs.get(name, []), summaries, 4))
    out.append("];")
    out.append("")
    text = "\n".join(out)
    with open(OUTPUT, "w", encoding="utf-8") as fh:
        fh.write(text)
    print("wrote %s: %d commands, %d subcommands" % (
        os.path.relpath(OUTPUT, ROOT), len(top), sum(len(v) for v in subs.values())))


if __name__ == "__main__":
    main()
