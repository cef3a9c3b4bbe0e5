#!/usr/bin/python3
# it_avro.sh's producer: the good OpenAI usage events of IN.jsonl files as
# JSON lines (for kcat), plain Avro datums and Confluent-framed Avro, all
# written by python3-avro (tests/avro/gen.py), never by burnrate.
#
#   produce.py prepare OUTDIR IN.jsonl...
#       OUTDIR/good.jsonl      the events, one JSON object a line
#       OUTDIR/schemas/<id>.avsc  7 usage.avsc, 8 added field, 9 int
#                              counts (promoted), 10 incompatible
#       OUTDIR/plain.hex       one plain datum per event
#       OUTDIR/confluent.hex   per event, framed with id 7 (id 8 every 5th,
#                              id 9 every 7th), with the bad messages of
#                              fixtures/bad.tsv and 3 incompatible ones
#                              (id 10) spread between them
#       OUTDIR/bad_expect.tsv  offset<TAB>reasons<TAB>case of each bad one
#                              (reasons: the accepted ones, |-separated)
#   produce.py send BOOTSTRAP TOPIC FILE.hex
#       every line one message, in order, to partition 0
import json
import os
import sys

from confluent_kafka import Producer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

FX = os.path.join(HERE, "fixtures")


def schema_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def prepare(out, inputs):
    os.makedirs(os.path.join(out, "schemas"), exist_ok=True)
    texts = {7: schema_text(gen.USAGE_AVSC),
             8: schema_text(os.path.join(FX, "added.writer.avsc")),
             9: schema_text(os.path.join(FX, "promoted.writer.avsc")),
             10: schema_text(os.path.join(FX, "incompatible.writer.avsc"))}
    schemas = {}
    for sid, text in texts.items():
        with open(os.path.join(out, "schemas", "%d.avsc" % sid), "w") as f:
            f.write(text)
        schemas[sid] = gen.avro.schema.parse(text)
    good = []
    with open(os.path.join(out, "good.jsonl"), "w", encoding="utf-8") as f:
        for path in inputs:
            for line in open(path, encoding="utf-8"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                d = gen.usage_datum(ev)
                if d is None:
                    continue
                good.append(d)
                f.write(json.dumps(ev, separators=(",", ":")) + "\n")
    bad = []
    for line in open(os.path.join(FX, "bad.tsv"), encoding="ascii"):
        h, reason, case = line.rstrip("\n").split("\t")
        bad.append((bytes.fromhex(h), reason, case))
    for i, h in enumerate(open(os.path.join(FX, "incompatible.hex"))):
        bad.append((gen.confluent(10, bytes.fromhex(h.strip())), "TYPE|PARSE",
                    "incompatible_%d" % i))
    plain, framed, expect = [], [], []
    every = max(1, len(good) // (len(bad) + 1))
    for n, d in enumerate(good):
        plain.append(gen.encode(schemas[7], d))
        if n % 5 == 4:
            d8 = dict(d)
            d8["region"] = "eu-west-1"
            framed.append(gen.confluent(8, gen.encode(schemas[8], d8)))
        elif n % 7 == 6:
            framed.append(gen.confluent(9, gen.encode(schemas[9], d)))
        else:
            framed.append(gen.confluent(7, gen.encode(schemas[7], d)))
        if n % every == every - 1 and bad:
            msg, reason, case = bad.pop(0)
            expect.append((len(framed), reason, case))
            framed.append(msg)
    for msg, reason, case in bad:
        expect.append((len(framed), reason, case))
        framed.append(msg)
    gen.write_hex(os.path.join(out, "plain.hex"), plain)
    gen.write_hex(os.path.join(out, "confluent.hex"), framed)
    with open(os.path.join(out, "bad_expect.tsv"), "w") as f:
        for off, reason, case in expect:
            f.write("%d\t%s\t%s\n" % (off, reason, case))
    print(len(good))


def send(bootstrap, topic, path):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                  "enable.idempotence": True})
    n = 0
    for line in open(path, encoding="ascii"):
        p.produce(topic, value=bytes.fromhex(line.strip()), partition=0)
        n += 1
        if n % 1000 == 0:
            p.poll(0)
    left = p.flush(30)
    if left:
        sys.exit("%d messages not delivered to %s" % (left, topic))


def main(argv):
    if len(argv) >= 4 and argv[1] == "prepare":
        prepare(argv[2], argv[3:])
        return 0
    if len(argv) == 5 and argv[1] == "send":
        send(argv[2], argv[3], argv[4])
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
