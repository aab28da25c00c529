#!/usr/bin/env python3
"""Convert a claimgraph JSON Lines export into a statement script (.cg).

Each JSONL transaction becomes one `BEGIN MESSAGE '...'; ...; COMMIT;` block
holding the same events in the same order, with the same claim ids, so that
running the script on an empty store reproduces the same entities, documents,
predicates and claims. A script's writes take their recorded-at time from the
clock; each block is preceded by a `-- @recorded_at <timestamp>` comment that
the demo loader (src/repl/demo.rs) uses to pin it, so the demo store gets the
same recorded-at times, author and hashes as importing the JSONL.

Used once to turn examples/sanctions.jsonl into examples/sanctions.cg; the
.cg is the demo's source of truth from then on (tests/demo.rs checks that the
two still hold the same claims).

    python3 scripts/jsonl_to_cg.py examples/sanctions.jsonl > examples/sanctions.cg
"""

import json
import re
import sys

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED = {
    "and", "as", "asc", "by", "contains", "desc", "distinct", "ends", "false", "for", "in",
    "include", "is", "limit", "match", "not", "null", "of", "or", "order", "return", "skip",
    "starts", "true", "valid", "where", "with",
}
DATE_KEYS = {"valid", "valid_from", "valid_to", "said_at", "published"}


def string(s, multiline=False):
    """A double-quoted string literal of the query language."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    if not multiline:
        out = out.replace("\n", "\\n")
    return '"' + out + '"'


def ident(name):
    """A name as an identifier, backtick-quoted when it has to be."""
    if IDENT.match(name):
        return name
    return "`" + name.replace("`", "``") + "`"


def entity_ref(key):
    return "@" + key if IDENT.match(key) else "@" + string(key)


def date(text, key):
    """A date literal; a bare year only counts as a date under a date key."""
    if len(text) == 4 and key not in DATE_KEYS:
        sys.exit(f"a year-precision date under `{key}` cannot be written in a script: {text}")
    return text


def term(t, key):
    """A tagged JSONL value ({"entity": ...}, {"string": ...}, ...) as a script value."""
    [(tag, v)] = t.items()
    if tag == "entity":
        return entity_ref(v)
    if tag == "string":
        return string(v)
    if tag == "bool":
        return "true" if v else "false"
    if tag in ("int", "float"):
        return repr(v) if tag == "float" else str(v)
    if tag == "date":
        return date(v, key)
    sys.exit(f"unknown value tag {tag}")


def props(pairs):
    items = [f"{ident(k)}: {v}" for k, v in pairs if v is not None]
    return " {" + ", ".join(items) + "}" if items else ""


def entity(e):
    pairs = [("name", string(e["name"]) if e.get("name") is not None else None)]
    if e.get("aliases") is not None:
        pairs.append(("aliases", "[" + ", ".join(string(a) for a in e["aliases"]) + "]"))
    for k, v in (e.get("attrs") or {}).items():
        if k in ("name", "aliases", "kind"):
            sys.exit(f"entity attribute `{k}` would be read as the entity's own field")
        pairs.append((k, term(v, k)))
    kind = f" :{ident(e['kind'])}" if e.get("kind") else ""
    return f"CREATE ENTITY {ident(e['key'])}{kind}{props(pairs)}"


def document(d):
    pairs = [
        ("title", string(d["title"]) if d.get("title") else None),
        ("publisher", string(d["publisher"]) if d.get("publisher") else None),
        ("published", d.get("published")),
        ("url", string(d["url"]) if d.get("url") else None),
        ("language", string(d["language"]) if d.get("language") else None),
        ("text", string(d["text"], multiline=True) if d.get("text") else None),
    ]
    return f"CREATE DOCUMENT {ident(d['key'])}{props(pairs)}"


def predicate(p):
    pairs = [
        ("functional", "true" if p.get("functional") else None),
        ("description", string(p["description"]) if p.get("description") else None),
    ]
    return f"CREATE PREDICATE {ident(p['key'])}{props(pairs)}"


def assertion(a):
    obj = a["o"]
    if "entity" in obj:
        o = f"({entity_ref(obj['entity'])})"
    else:
        o = f"({term(obj, 'object')})"
    pairs = [("id", ident(a["claim"]) if a.get("claim") else None)]
    for k in ("by", "source"):
        if a.get(k):
            pairs.append((k, entity_ref(a[k])))
    if a.get("stance") and a["stance"] != "asserts":
        pairs.append(("stance", a["stance"]))
    for k in ("valid", "valid_from", "valid_to", "said_at"):
        if a.get(k):
            pairs.append((k, a[k]))
    if a.get("confidence") is not None:
        pairs.append(("confidence", repr(float(a["confidence"]))))
    if a.get("quote"):
        pairs.append(("quote", string(a["quote"])))
    for k, v in (a.get("qualifiers") or {}).items():
        pairs.append((k, term(v, k)))
    body = props(pairs).strip()
    return f"ASSERT ({entity_ref(a['s'])})-[:{ident(a['p'])}]->{o}\n  {body}"


def event(e):
    op = e["op"]
    if op == "entity":
        return entity(e)
    if op == "document":
        return document(e)
    if op == "predicate":
        return predicate(e)
    if op == "assert":
        return assertion(e)
    if op == "retract":
        return f"RETRACT {ident(e['claim'])} BECAUSE {string(e.get('reason') or '')}"
    if op == "merge":
        return f"MERGE ENTITY {entity_ref(e['from'])} INTO {entity_ref(e['into'])}"
    if op == "unmerge":
        return f"UNMERGE ENTITY {entity_ref(e['entity'])}"
    sys.exit(f"unknown op {op}")


def main(path):
    out = [
        "-- claimgraph demo: the claims of the Cailian News article of 2025-03-04 on US",
        "-- sanctions against Russia (shared/seed), with speakers, hedges, valid times and",
        "-- quotes, and a few later corrections an analyst would make.",
        "--",
        "-- Generated once from examples/sanctions.jsonl by scripts/jsonl_to_cg.py; this",
        "-- script is the demo's source of truth (`claimgraph repl --demo` runs it).",
        "-- One transaction per BEGIN ... COMMIT block, in order: tx 1 declares, tx 2-16",
        "-- follow the article paragraph by paragraph, tx 17-20 are later corrections.",
        "-- Anything that is not in the article says DEMO in its transaction message.",
        "-- `-- @recorded_at` comments give the time each transaction was recorded; the",
        "-- demo loader pins its clock to them (`claimgraph run` records the current time).",
        "",
    ]
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            tx = json.loads(line)
            out.append(f"-- tx {n}")
            if tx.get("recorded_at"):
                out.append(f"-- @recorded_at {tx['recorded_at']}")
            msg = tx.get("message")
            out.append(f"BEGIN MESSAGE {string(msg)};" if msg else "BEGIN;")
            for e in tx["events"]:
                out.append(event(e) + ";")
            out.append("COMMIT;")
            out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: jsonl_to_cg.py FILE.jsonl > FILE.cg")
    main(sys.argv[1])
