#!/usr/bin/python3
# The field tables of schemas/avro.md, generated from the "doc" attributes of
# schemas/*.avsc so that the two cannot drift. Prints the tables; with
# --check, exits 1 when schemas/avro.md does not contain them verbatim (and
# parses every schema with python3-avro first).
import json
import os
import sys

import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")
NAMES = ["usage", "focus", "alert"]


def tname(t):
    if isinstance(t, list):
        return " | ".join(tname(x) for x in t)
    if isinstance(t, str):
        return t
    k = t["type"]
    if k == "record":
        return "record " + t["name"]
    if k == "map":
        return "map<%s>" % tname(t["values"])
    if k == "array":
        return "array<%s>" % tname(t["items"])
    if k == "enum":
        return "enum %s {%s}" % (t["name"], ", ".join(t["symbols"]))
    if t.get("logicalType") == "decimal":
        return "%s decimal(%d,%d)" % (k, t["precision"], t["scale"])
    if t.get("logicalType"):
        return "%s %s" % (k, t["logicalType"])
    return k


def walk(fields, prefix, out):
    for f in fields:
        if not f.get("doc"):
            raise SystemExit("field %s%s has no doc" % (prefix, f["name"]))
        path = prefix + f["name"]
        d = json.dumps(f["default"]) if "default" in f else "required"
        out.append("| `%s` | %s | %s | %s |" % (
            path, tname(f["type"]).replace("|", "\\|"), d,
            f["doc"].replace("|", "\\|")))
        for x in f["type"] if isinstance(f["type"], list) else [f["type"]]:
            if isinstance(x, dict) and x["type"] == "record":
                walk(x["fields"], path + ".", out)
            if (isinstance(x, dict) and x["type"] == "array"
                    and isinstance(x["items"], dict)
                    and x["items"]["type"] == "record"):
                walk(x["items"]["fields"], path + "[].", out)


def tables():
    text = []
    for n in NAMES:
        path = os.path.join(SCHEMAS, n + ".avsc")
        with open(path, encoding="utf-8") as f:
            raw = f.read()
        avro.schema.parse(raw)
        s = json.loads(raw)
        out = []
        walk(s["fields"], "", out)
        text.append("### `schemas/%s.avsc`: %s.%s\n\n%s\n\n"
                    "| field | Avro type | default | meaning |\n"
                    "| --- | --- | --- | --- |\n%s\n"
                    % (n, s["namespace"], s["name"], s["doc"], "\n".join(out)))
    return "\n".join(text)


def main():
    t = tables()
    if sys.argv[1:] == ["--check"]:
        with open(os.path.join(SCHEMAS, "avro.md"), encoding="utf-8") as f:
            if t not in f.read():
                sys.stderr.write("schemas/avro.md is out of date: regenerate "
                                 "its tables with tests/avro/schema_doc.py\n")
                return 1
        return 0
    sys.stdout.write(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
