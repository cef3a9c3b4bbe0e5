#!/usr/bin/python3
"""it_avro_hold.sh's Kafka and registry side, independent of burnrate: Avro
written by python3-avro (tests/avro/gen.py), sent with confluent_kafka to
an explicit partition, and the consumer group's committed offsets.

  hold.py schemas DIR
      DIR/<id>.avsc for the registry: 7 usage.avsc, 8 an added field,
      9 int counts (promoted), 12 fields removed (all compatible)
  hold.py send BOOTSTRAP TOPIC PARTITION ID N TAG
      N distinct OpenAI usage events (ids chatcmpl-hold-TAG-<n>) framed
      with schema id ID to PARTITION; prints "FIRST LAST NANOS": the
      offsets they got and their cost in nanos at run.yaml's prices
  hold.py raw BOOTSTRAP TOPIC PARTITION HEX
      one message of those bytes to PARTITION; prints its offset
  hold.py offsets BOOTSTRAP GROUP TOPIC
      per partition "P COMMITTED HIGH" (COMMITTED -1001: none yet)
  hold.py stat URL ID
      lookups of schema ID the registry test server has answered
"""
import json
import os
import sys
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import gen  # noqa: E402

FX = os.path.join(os.path.dirname(HERE), "fixtures")
SCHEMAS = {7: gen.USAGE_AVSC,
           8: os.path.join(FX, "added.writer.avsc"),
           9: os.path.join(FX, "promoted.writer.avsc"),
           12: os.path.join(FX, "removed.writer.avsc")}
# Nanos per token (input, output): run.yaml's USD per million tokens * 1000.
PRICES = {"gpt-4o": (2500, 10000), "gpt-4o-mini": (150, 600)}
MODELS = sorted(PRICES)
TEAMS = ["ml", "search", "ads"]


def schemas(out):
    os.makedirs(out, exist_ok=True)
    for sid, path in SCHEMAS.items():
        with open(path, encoding="utf-8") as f, \
                open(os.path.join(out, "%d.avsc" % sid), "w",
                     encoding="utf-8") as g:
            g.write(f.read())


def event(tag, n):
    """The n-th event of TAG: distinct id, a time in one hour of 2025-03-01,
    token counts that depend on both."""
    h = sum(map(ord, tag)) * 7919 + n * 104729
    return {"id": "chatcmpl-hold-%s-%d" % (tag, n), "object": "chat.completion",
            "created": 1740787200 + h % 3600, "model": MODELS[h % 2],
            "metadata": {"team": TEAMS[h % 3]},
            "usage": {"prompt_tokens": 100 + h % 5000,
                      "completion_tokens": 10 + h % 700}}


def datum_for(sid, ev):
    d = gen.usage_datum(ev)
    if sid == 8:
        d["region"] = "eu-west-1"
    elif sid == 12:
        d.pop("metadata")
        d.pop("provider")
    return d


class Sender:
    def __init__(self, bootstrap):
        self.p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                           "enable.idempotence": True})
        self.offsets = []
        self.errors = []

    def on_delivery(self, err, msg):
        if err is not None:
            self.errors.append(str(err))
        else:
            self.offsets.append(msg.offset())

    def send(self, topic, partition, values):
        for v in values:
            self.p.produce(topic, value=v, partition=partition,
                           on_delivery=self.on_delivery)
        left = self.p.flush(30)
        if left or self.errors or len(self.offsets) != len(values):
            sys.exit("%s[%d]: %d not delivered: %s"
                     % (topic, partition, left or len(values) - len(self.offsets),
                        self.errors[:3]))
        return sorted(self.offsets)


def send(bootstrap, topic, partition, sid, n, tag):
    schema = gen.load_schema(SCHEMAS[sid])
    values, nanos = [], 0
    for i in range(n):
        ev = event(tag, i)
        values.append(gen.confluent(sid, gen.encode(schema, datum_for(sid, ev))))
        pin, pout = PRICES[ev["model"]]
        nanos += (ev["usage"]["prompt_tokens"] * pin
                  + ev["usage"]["completion_tokens"] * pout)
    offs = Sender(bootstrap).send(topic, partition, values)
    if offs != list(range(offs[0], offs[0] + n)):
        sys.exit("%s[%d]: offsets %s not consecutive" % (topic, partition, offs))
    print(offs[0], offs[-1], nanos)


def raw(bootstrap, topic, partition, hexbytes):
    print(Sender(bootstrap).send(topic, partition, [bytes.fromhex(hexbytes)])[0])


def offsets(bootstrap, group, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        md = c.list_topics(topic, timeout=10)
        parts = sorted(md.topics[topic].partitions)
        tps = [TopicPartition(topic, p) for p in parts]
        for tp in c.committed(tps, timeout=10):
            hi = c.get_watermark_offsets(TopicPartition(topic, tp.partition),
                                         timeout=10)[1]
            print(tp.partition, tp.offset, hi)
    finally:
        c.close()


def stat(url, sid):
    with urllib.request.urlopen(url + "/control/stats", timeout=5) as r:
        print(json.load(r)["by_id"].get(sid, 0))


def main(argv):
    if len(argv) == 3 and argv[1] == "schemas":
        schemas(argv[2])
    elif len(argv) == 8 and argv[1] == "send":
        send(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]), argv[7])
    elif len(argv) == 6 and argv[1] == "raw":
        raw(argv[2], argv[3], int(argv[4]), argv[5])
    elif len(argv) == 5 and argv[1] == "offsets":
        offsets(argv[2], argv[3], argv[4])
    elif len(argv) == 4 and argv[1] == "stat":
        stat(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
