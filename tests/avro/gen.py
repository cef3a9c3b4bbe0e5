#!/usr/bin/python3
# Avro test data written by an independent encoder (python3-avro's
# DatumWriter, never burnrate's code), from JSON lines of OpenAI-shape usage
# events such as tests/replay/tokens_a.jsonl.
#
#   gen.py messages [--framing plain|confluent] [--id N] [--schema AVSC]
#                   IN.jsonl OUT.hex
#       one message per line, hex: a plain Avro binary datum, or the
#       Confluent framing (magic 0, 4-byte big-endian schema id, datum).
#       Lines of IN that are not JSON objects of the schema's shape are
#       skipped (tokens_b.jsonl holds deliberate dead letters).
#   gen.py ocf [--schema AVSC] [--codec C] [--block-records N] IN.jsonl OUT.avro
#       an Avro object container file of the same events, written by
#       python3-avro's DataFileWriter (codecs null, deflate, bzip2, snappy,
#       zstandard), or for --codec xz (which python3-avro lacks) written
#       with codec null and each block then compressed by Python's lzma
#       (FORMAT_XZ); --block-records ends a block every N records.
#   gen.py damage --block N (--record | --sync) IN.avro OUT.avro
#       a copy of a codec-null file with block N (1-based) broken: its first
#       record's first length made negative (the block's records cannot be
#       read: one dead letter, the file reads on), or its sync marker
#       changed (the file cannot be trusted beyond it).
#   gen.py fixtures DIR
#       the committed evolution fixtures, DIR = tests/avro/fixtures; made by
#       `tests/avro/gen.py fixtures tests/avro/fixtures` (deterministic: same
#       bytes on every run). For each case C:
#         C.writer.avsc   the writer schema
#         C.reader.avsc   the reader schema (a copy of schemas/usage.avsc
#                         unless the case needs another)
#         C.hex           datums written with C.writer.avsc, one per line
#         C.expect.jsonl  what each datum must decode to, read through
#                         C.reader.avsc, in burnrate's JSON shape (a union
#                         is its branch's value; decimals are decimal text
#                         and compare by value; times are RFC 3339 text
#                         and compare as instants)
#       Cases: added (writer has an extra optional field: skipped),
#       removed (writer lacks fields the reader defaults: metadata -> {},
#       provider -> null), promoted (writer's token counts are int: read as
#       long), float (FOCUS costs written as float, read as double),
#       incompatible (prompt_tokens a required string: resolution must fail,
#       C.expect.jsonl is empty). Plus bad.tsv: a corpus of bad Confluent
#       messages, "hex<TAB>reason<TAB>case" per line (with every datum of
#       tests/avro/hostile/ in the Confluent framing).
#   gen.py hostile DIR
#       hostile datums of schemas/usage.avsc, one per file (DIR/NAME.bin,
#       DIR = tests/avro/hostile): lengths and block counts that lie, one
#       case per file, each a PARSE dead letter (tests/test_avro.c reads
#       every file of DIR). Built byte by byte around a datum python3-avro
#       reads; issue15_map_key_negative_length.bin is the datum of issue 15
#       as found, kept verbatim.
import argparse
import copy
import datetime
import decimal
import io
import json
import os
import struct
import sys

import avro.datafile
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
USAGE_AVSC = os.path.join(HERE, "..", "..", "schemas", "usage.avsc")
FOCUS_AVSC = os.path.join(HERE, "..", "..", "schemas", "focus.avsc")

# The ids the tests register the fixture schemas under.
CONFLUENT_IDS = {"usage": 7, "added": 8, "promoted": 9, "incompatible": 10}


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return avro.schema.parse(f.read())


def quantize(d, scale):
    """python3-avro 1.11 writes a Decimal's own digits unscaled: rescale."""
    return decimal.Decimal(d).quantize(decimal.Decimal(1).scaleb(-scale))


def usage_datum(ev):
    """An OpenAI chat.completion JSON object as a datum of usage.avsc, or
    None when it does not have that shape."""
    if not isinstance(ev, dict):
        return None
    u = ev.get("usage")
    if (not isinstance(u, dict) or not isinstance(ev.get("id"), str)
            or not isinstance(ev.get("created"), int)
            or not isinstance(ev.get("model"), str)
            or not isinstance(u.get("prompt_tokens"), int)
            or not isinstance(u.get("completion_tokens"), int)):
        return None
    d = {
        "id": ev["id"], "object": ev.get("object"), "created": ev["created"],
        "model": ev["model"], "provider": ev.get("provider"),
        "usage": {
            "prompt_tokens": u["prompt_tokens"],
            "completion_tokens": u["completion_tokens"],
            "total_tokens": u.get("total_tokens"),
            "prompt_tokens_details": None,
            "completion_tokens_details": None,
        },
        "cost": None, "currency": ev.get("currency"), "user": ev.get("user"),
        "service_tier": ev.get("service_tier"),
        "metadata": {k: str(v) for k, v in (ev.get("metadata") or {}).items()},
    }
    p = u.get("prompt_tokens_details")
    if isinstance(p, dict):
        d["usage"]["prompt_tokens_details"] = {
            "cached_tokens": p.get("cached_tokens")}
    c = u.get("completion_tokens_details")
    if isinstance(c, dict):
        d["usage"]["completion_tokens_details"] = {
            "reasoning_tokens": c.get("reasoning_tokens")}
    if ev.get("cost") is not None:
        d["cost"] = quantize(str(ev["cost"]), 12)
    return d


def read_events(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                d = usage_datum(json.loads(line))
            except ValueError:
                d = None
            if d is not None:
                out.append(d)
    return out


def encode(schema, datum):
    b = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(b))
    return b.getvalue()


def confluent(schema_id, body):
    return b"\x00" + struct.pack(">I", schema_id) + body


def write_hex(path, msgs):
    with open(path, "w", encoding="ascii") as f:
        for m in msgs:
            f.write(m.hex() + "\n")


def cmd_messages(a):
    schema = load_schema(a.schema)
    msgs = []
    for d in read_events(a.input):
        body = encode(schema, d)
        msgs.append(confluent(a.id, body) if a.framing == "confluent"
                    else body)
    write_hex(a.output, msgs)
    return 0


def cmd_ocf(a):
    schema = load_schema(a.schema)
    codec = "null" if a.codec == "xz" else a.codec
    buf = io.BytesIO()
    w = avro.datafile.DataFileWriter(buf, avro.io.DatumWriter(), schema,
                                     codec=codec)
    for i, d in enumerate(read_events(a.input)):
        w.append(d)
        if a.block_records and (i + 1) % a.block_records == 0:
            w.sync()
    w.flush()
    data = buf.getvalue()
    w.close()
    if a.codec == "xz":
        import lzma
        meta, sync, blocks = ocf_read(data)
        meta[b"avro.codec"] = b"xz"
        data = ocf_write(meta, sync, [(n, lzma.compress(b, format=lzma.FORMAT_XZ))
                                      for n, b in blocks])
    with open(a.output, "wb") as f:
        f.write(data)
    return 0


# An object container file by hand (the spec's layout), for what
# python3-avro cannot write: a codec it lacks, a damaged block.
def zz_read(b, i):
    shift = v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return (v >> 1) ^ -(v & 1), i


def zz_write(n):
    v = (n << 1) ^ (n >> 63)
    out = bytearray()
    while v > 0x7f:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def ocf_read(b):
    """(metadata dict, sync, [(count, block bytes as stored)])"""
    assert b[:4] == b"Obj\x01"
    i, meta = 4, {}
    while True:
        n, i = zz_read(b, i)
        if n == 0:
            break
        if n < 0:
            n = -n
            _, i = zz_read(b, i)
        for _ in range(n):
            kl, i = zz_read(b, i)
            k = b[i:i + kl]
            i += kl
            vl, i = zz_read(b, i)
            meta[k] = b[i:i + vl]
            i += vl
    sync = b[i:i + 16]
    i += 16
    blocks = []
    while i < len(b):
        n, i = zz_read(b, i)
        size, i = zz_read(b, i)
        blocks.append((n, b[i:i + size]))
        i += size
        assert b[i:i + 16] == sync
        i += 16
    return meta, sync, blocks


def ocf_write(meta, sync, blocks, bad_sync=None):
    out = bytearray(b"Obj\x01")
    out += zz_write(len(meta))
    for k, v in meta.items():
        out += zz_write(len(k)) + k + zz_write(len(v)) + v
    out += zz_write(0) + sync
    for j, (n, data) in enumerate(blocks):
        out += zz_write(n) + zz_write(len(data)) + data
        out += bytes(16) if j == bad_sync else sync
    return bytes(out)


def cmd_damage(a):
    meta, sync, blocks = ocf_read(open(a.input, "rb").read())
    assert meta.get(b"avro.codec", b"null") == b"null"
    k = a.block - 1
    bad_sync = None
    if a.record:
        n, data = blocks[k]
        blocks[k] = (n, b"\x7f" + data[1:])  # zigzag -64: a negative length
    else:
        bad_sync = k
    with open(a.output, "wb") as f:
        f.write(ocf_write(meta, sync, blocks, bad_sync))
    return 0


# --- fixtures ---------------------------------------------------------------

SAMPLES = [
    {"id": "chatcmpl-fx-1", "object": "chat.completion",
     "created": 1740787215, "model": "gpt-4o",
     "metadata": {"team": "ml", "app": "assistant"},
     "usage": {"prompt_tokens": 62816, "completion_tokens": 6076,
               "total_tokens": 68892,
               "prompt_tokens_details": {"cached_tokens": 1024},
               "completion_tokens_details": {"reasoning_tokens": 512}}},
    {"id": "chatcmpl-fx-2", "created": 1740787277, "model": "gpt-4o-mini",
     "metadata": {"team": "search"}, "user": "u-42",
     "service_tier": "flex", "cost": "0.000000800001", "currency": "USD",
     "usage": {"prompt_tokens": 26058, "completion_tokens": 2716}},
    {"id": "chatcmpl-fx-3", "created": 1740790000, "model": "o3",
     "provider": "openai", "metadata": {},
     "usage": {"prompt_tokens": 0, "completion_tokens": 2147483647,
               "completion_tokens_details": {"reasoning_tokens": None}}},
]


def as_burnrate_json(datum):
    """A datum as burnrate's JSON shape: unions unwrapped (Python datums
    already are), decimals as text."""
    if isinstance(datum, dict):
        return {k: as_burnrate_json(v) for k, v in datum.items()}
    if isinstance(datum, list):
        return [as_burnrate_json(v) for v in datum]
    if isinstance(datum, decimal.Decimal):
        return format(datum, "f")
    return datum


def field(schema_json, path):
    """The field dict at dotted path (through record and union types)."""
    cur = schema_json
    for part in path.split("."):
        fields = cur["fields"] if "fields" in cur else None
        if fields is None:
            for branch in cur["type"] if isinstance(cur["type"], list) else [cur["type"]]:
                if isinstance(branch, dict) and branch.get("type") == "record":
                    fields = branch["fields"]
        cur = next(f for f in fields if f["name"] == part)
    return cur


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_case(out, name, writer_json, reader_json, datums, expects):
    dump_json(os.path.join(out, name + ".writer.avsc"), writer_json)
    dump_json(os.path.join(out, name + ".reader.avsc"), reader_json)
    writer = avro.schema.parse(json.dumps(writer_json))
    write_hex(os.path.join(out, name + ".hex"),
              [encode(writer, d) for d in datums])
    # The expectation comes from python3-avro's own resolver, so the
    # fixture is what an independent implementation reads.
    reader = avro.schema.parse(json.dumps(reader_json))
    with open(os.path.join(out, name + ".expect.jsonl"), "w",
              encoding="utf-8") as f:
        for d, want in zip(datums, expects):
            got = avro.io.DatumReader(writer, reader).read(
                avro.io.BinaryDecoder(io.BytesIO(encode(writer, d))))
            got = as_burnrate_json(got)
            if want is not None and got != want:
                raise SystemExit("%s: python3-avro read %s, want %s"
                                 % (name, got, want))
            f.write(json.dumps(got, sort_keys=True) + "\n")


def cmd_fixtures(a):
    out = a.dir
    os.makedirs(out, exist_ok=True)
    with open(USAGE_AVSC, encoding="utf-8") as f:
        usage = json.load(f)
    base = [usage_datum(e) for e in SAMPLES]
    plain = [as_burnrate_json(d) for d in base]

    # added: the writer has a newer optional field the reader lacks.
    w = copy.deepcopy(usage)
    w["fields"].append({"name": "region", "type": ["null", "string"],
                        "default": None, "doc": "Added in a later version."})
    ds = []
    for d in base:
        d = dict(d)
        d["region"] = "eu-west-1"
        ds.append(d)
    write_case(out, "added", w, usage, ds, plain)

    # removed: the writer lacks fields the reader defaults.
    w = copy.deepcopy(usage)
    w["fields"] = [f for f in w["fields"]
                   if f["name"] not in ("metadata", "provider")]
    ds, want = [], []
    for d in base:
        d = {k: v for k, v in d.items() if k not in ("metadata", "provider")}
        ds.append(d)
        e = as_burnrate_json(d)
        e["metadata"] = {}
        e["provider"] = None
        want.append(e)
    write_case(out, "removed", w, usage, ds, want)

    # promoted: the writer's token counts are int, the reader's long.
    w = copy.deepcopy(usage)
    for p in ("usage.prompt_tokens", "usage.completion_tokens"):
        field(w, p)["type"] = "int"
    field(w, "usage.total_tokens")["type"] = ["null", "int"]
    field(w, "created")["type"] = "int"
    write_case(out, "promoted", w, usage, base, plain)

    # float: FOCUS costs written as float, read as double (a producer that
    # uses floating point money; values exact in binary).
    with open(FOCUS_AVSC, encoding="utf-8") as f:
        focus = json.load(f)
    r = copy.deepcopy(focus)
    field(r, "BilledCost")["type"] = "double"
    field(r, "EffectiveCost")["type"] = ["null", "double"]
    w = copy.deepcopy(focus)
    field(w, "BilledCost")["type"] = "float"
    field(w, "EffectiveCost")["type"] = ["null", "float"]
    rows = []
    for i, (cost, eff) in enumerate([(0.5, 0.25), (-1.25, None),
                                     (1048576.0, 3.0)]):
        rows.append({
            "BilledCost": cost, "EffectiveCost": eff,
            "BillingCurrency": "USD",
            "ChargePeriodStart": ms_time(1726696800000 + i * 3600000),
            "ChargePeriodEnd": ms_time(1726700400000 + i * 3600000),
            "ChargeCategory": "Credit" if cost < 0 else "Usage",
            "ChargeClass": None, "ServiceName": "Amazon Bedrock",
            "ServiceCategory": "AI and Machine Learning",
            "ProviderName": "AWS", "SubAccountId": "123456789012",
            "SubAccountName": None, "ResourceId": None,
            "RegionId": "us-east-1", "SkuId": "SKU%d" % i,
            "Tags": {"team": "ml"}})
    # timestamp-millis reads as RFC 3339 text in burnrate's shape;
    # python3-avro gives datetimes: compare through the same text.
    write_case_focus(out, "float", w, r, rows)

    # incompatible: a required field of another type. No datum of it can be
    # read through usage.avsc; the reader must refuse the pair.
    w = copy.deepcopy(usage)
    field(w, "usage.prompt_tokens")["type"] = "string"
    ds = []
    for d in base:
        d = copy.deepcopy(d)
        d["usage"]["prompt_tokens"] = str(d["usage"]["prompt_tokens"])
        ds.append(d)
    dump_json(os.path.join(out, "incompatible.writer.avsc"), w)
    dump_json(os.path.join(out, "incompatible.reader.avsc"), usage)
    write_hex(os.path.join(out, "incompatible.hex"),
              [encode(avro.schema.parse(json.dumps(w)), d) for d in ds])
    open(os.path.join(out, "incompatible.expect.jsonl"), "w").close()

    write_bad(out, usage)
    return 0


def ms_time(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


def write_case_focus(out, name, writer_json, reader_json, rows):
    dump_json(os.path.join(out, name + ".writer.avsc"), writer_json)
    dump_json(os.path.join(out, name + ".reader.avsc"), reader_json)
    writer = avro.schema.parse(json.dumps(writer_json))
    reader = avro.schema.parse(json.dumps(reader_json))
    write_hex(os.path.join(out, name + ".hex"),
              [encode(writer, d) for d in rows])
    with open(os.path.join(out, name + ".expect.jsonl"), "w",
              encoding="utf-8") as f:
        for d in rows:
            got = avro.io.DatumReader(writer, reader).read(
                avro.io.BinaryDecoder(io.BytesIO(encode(writer, d))))
            for k in ("ChargePeriodStart", "ChargePeriodEnd"):
                got[k] = got[k].astimezone(datetime.timezone.utc).strftime(
                    "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            assert got["BilledCost"] == d["BilledCost"]
            f.write(json.dumps(got, sort_keys=True) + "\n")


def write_bad(out, usage_json):
    """bad.tsv: Confluent messages that must become dead letters, with the
    reason: the sample truncated at every byte, wrong magic bytes, an
    unknown schema id, a garbage body, trailing bytes, too short."""
    schema = avro.schema.parse(json.dumps(usage_json))
    body = encode(schema, usage_datum(SAMPLES[0]))
    good = confluent(CONFLUENT_IDS["usage"], body)
    rows = []
    for n in range(len(good)):
        reason = "PARSE"
        rows.append((good[:n], reason, "truncated_%d" % n))
    rows.append((b"\x01" + good[1:], "PARSE", "magic_1"))
    rows.append((b"{" + good[1:], "PARSE", "magic_json"))
    rows.append((b'{"id":"chatcmpl-x","created":1740787215}', "PARSE",
                 "json_not_avro"))
    rows.append((confluent(4040, body), "NOTFOUND", "unknown_id"))
    rows.append((confluent(CONFLUENT_IDS["usage"], b"\xff" * 40), "PARSE",
                 "garbage_body"))
    rows.append((good + b"\x00\x00", "PARSE", "trailing_bytes"))
    hostile = os.path.join(HERE, "hostile")
    for name in sorted(os.listdir(hostile)):
        if name.endswith(".bin"):
            with open(os.path.join(hostile, name), "rb") as f:
                rows.append((confluent(CONFLUENT_IDS["usage"], f.read()),
                             "PARSE", "hostile_" + name[:-4]))
    with open(os.path.join(out, "bad.tsv"), "w", encoding="ascii") as f:
        for msg, reason, case in rows:
            f.write("%s\t%s\t%s\n" % (msg.hex(), reason, case))


def zz(n):
    """A zigzag varint; n may be any int that fits 64 bits."""
    u = (n << 1) ^ (n >> 63) if n < 0 else n << 1
    u &= (1 << 64) - 1
    out = bytearray()
    while u >= 0x80:
        out.append(u & 0x7f | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def avro_str(b, length=None):
    return zz(len(b) if length is None else length) + b


ISSUE15 = bytes.fromhex(
    "1a63686174636d706c2d66782d31021e636861742e636f6d706c6574696f6e9e"
    "b892fc0c0c6770742d346f00c0d507f85e02b8b4ba0000000000000008020802"
    "100205000002002d66782d31021e636861742e636f6d706c6574696f6e9eb892"
    "fc0c0c6770742d346f00c0d507f85e02b8b4ba00000000000000000004087465"
    "616d046d6c0661707012617373697374616e7400")


def hostile_datum(id_len=None, branch=1, cost=None, metadata=None):
    """A usage.avsc datum laid out by hand, so one length or count can lie:
    id, object (branch), created, model, provider, usage, cost (bytes of a
    decimal, or None), currency, user, service_tier, metadata (its encoded
    blocks, default: {"team": "ml"} in one block)."""
    d = avro_str(b"chatcmpl-h", id_len)
    d += zz(branch) + (avro_str(b"chat.completion") if branch == 1 else b"")
    d += zz(1740787215) + avro_str(b"gpt-4o") + zz(0)
    d += zz(62816) + zz(6076) + zz(1) + zz(68892) + zz(0) + zz(0)
    d += zz(0) if cost is None else zz(1) + cost
    d += zz(0) * 3
    if metadata is None:
        metadata = zz(1) + avro_str(b"team") + avro_str(b"ml") + zz(0)
    return d + metadata


def cmd_hostile(a):
    entry = avro_str(b"team") + avro_str(b"ml")
    cases = {
        # Well formed: python3-avro must read it (checked below).
        None: hostile_datum(),
        "map_key_huge_length":
            hostile_datum(metadata=zz(1) + zz(1 << 62) + b"team" + zz(0)),
        "map_key_int64_min_length":
            hostile_datum(metadata=zz(1) + zz(-(1 << 63)) + b"team" + zz(0)),
        "map_value_negative_length":
            hostile_datum(metadata=zz(1) + avro_str(b"team") + zz(-23) +
                          b"ml" + zz(0)),
        "map_negative_count_huge_size":
            hostile_datum(metadata=zz(-1) + zz(1 << 62) + entry + zz(0)),
        "map_negative_count_negative_size":
            hostile_datum(metadata=zz(-1) + zz(-8) + entry + zz(0)),
        "map_negative_count_wrong_size":
            hostile_datum(metadata=zz(-1) + zz(2) + entry + zz(0)),
        "map_count_int64_min":
            hostile_datum(metadata=zz(-(1 << 63)) + zz(len(entry)) + entry +
                          zz(0)),
        "map_count_huge":
            hostile_datum(metadata=zz(1 << 40) + entry + zz(0)),
        "map_second_block_huge":
            hostile_datum(metadata=zz(1) + entry + zz((1 << 62) - 1) + entry +
                          zz(0)),
        "string_huge_length": hostile_datum(id_len=(1 << 62)),
        "string_negative_length": hostile_datum(id_len=-1),
        "string_int64_min_length": hostile_datum(id_len=-(1 << 63)),
        "string_varint_beyond_64_bits":
            b"\xff" * 9 + b"\x7f" + b"chatcmpl-h" + hostile_datum()[11:],
        "string_varint_11_bytes":
            b"\x80" * 10 + b"\x00" + hostile_datum()[1:],
        "union_branch_negative": hostile_datum(branch=-1),
        "union_branch_huge": hostile_datum(branch=1 << 40),
        "decimal_huge_length": hostile_datum(cost=zz(1 << 62) + b"\x01"),
    }
    good = cases.pop(None)
    schema = avro.schema.parse(open(USAGE_AVSC, encoding="utf-8").read())
    back = avro.io.DatumReader(schema).read(
        avro.io.BinaryDecoder(io.BytesIO(good)))
    assert back["id"] == "chatcmpl-h" and back["metadata"] == {"team": "ml"}
    cases["issue15_map_key_negative_length"] = ISSUE15
    os.makedirs(a.dir, exist_ok=True)
    for name, datum in sorted(cases.items()):
        with open(os.path.join(a.dir, name + ".bin"), "wb") as f:
            f.write(datum)
    with open(os.path.join(a.dir, "good.hex"), "w", encoding="ascii") as f:
        f.write(good.hex() + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("messages")
    m.add_argument("--framing", choices=["plain", "confluent"],
                   default="plain")
    m.add_argument("--id", type=int, default=CONFLUENT_IDS["usage"])
    m.add_argument("--schema", default=USAGE_AVSC)
    m.add_argument("input")
    m.add_argument("output")
    o = sub.add_parser("ocf")
    o.add_argument("--schema", default=USAGE_AVSC)
    o.add_argument("--codec", default="null",
                   choices=["null", "deflate", "bzip2", "snappy", "zstandard",
                            "xz"])
    o.add_argument("--block-records", type=int, default=0)
    o.add_argument("input")
    o.add_argument("output")
    g = sub.add_parser("damage")
    g.add_argument("--block", type=int, required=True)
    gw = g.add_mutually_exclusive_group(required=True)
    gw.add_argument("--record", action="store_true")
    gw.add_argument("--sync", action="store_true")
    g.add_argument("input")
    g.add_argument("output")
    x = sub.add_parser("fixtures")
    x.add_argument("dir")
    h = sub.add_parser("hostile")
    h.add_argument("dir")
    a = ap.parse_args()
    return {"messages": cmd_messages, "ocf": cmd_ocf, "damage": cmd_damage,
            "fixtures": cmd_fixtures, "hostile": cmd_hostile}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
