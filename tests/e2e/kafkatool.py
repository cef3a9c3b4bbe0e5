#!/usr/bin/python3
"""An independent Kafka client (confluent_kafka) for the integration tests.

  kafkatool.py caught-up BOOTSTRAP GROUP TOPIC...
      exit 0 when GROUP has committed, on every partition of every TOPIC
      that holds messages, an offset at the partition's high watermark.
  kafkatool.py dump BOOTSTRAP TOPIC
      every message of TOPIC from the beginning to the current end, one JSON
      object per line: topic, partition, offset, key, headers, len, value
      (text, invalid UTF-8 replaced).
  kafkatool.py count BOOTSTRAP TOPIC
      messages in TOPIC (sum of high minus low watermarks).
  kafkatool.py alert-set FILE
      the set of (type, status, scope, labels, window start, threshold) of
      the alert JSON lines in FILE, one sorted line each (see expected files).
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition


def consumer(bootstrap, group="kafkatool"):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
    })


def partitions(c, topic):
    md = c.list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return []
    return sorted(t.partitions)


def caught_up(bootstrap, group, topics):
    c = consumer(bootstrap, group)
    try:
        tps = []
        highs = {}
        for topic in topics:
            for p in partitions(c, topic):
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p),
                                                 timeout=10)
                if hi > lo:
                    tps.append(TopicPartition(topic, p))
                    highs[(topic, p)] = hi
        if not tps:
            return True
        for tp in c.committed(tps, timeout=10):
            if tp.offset < highs[(tp.topic, tp.partition)]:
                return False
        return True
    finally:
        c.close()


def count(bootstrap, topic):
    c = consumer(bootstrap)
    try:
        n = 0
        for p in partitions(c, topic):
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p),
                                             timeout=10)
            n += hi - lo
        return n
    finally:
        c.close()


def dump(bootstrap, topic, out):
    c = consumer(bootstrap, "kafkatool-dump-%d" % time.monotonic_ns())
    try:
        parts = partitions(c, topic)
        todo = set()
        assign = []
        for p in parts:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p),
                                             timeout=10)
            if hi > lo:
                todo.add(p)
                assign.append(TopicPartition(topic, p, lo))
        if not assign:
            return
        c.assign(assign)
        deadline = time.monotonic() + 30
        while todo:
            if time.monotonic() > deadline:
                raise SystemExit("dump %s: timed out, partitions %s not at "
                                 "their end" % (topic, sorted(todo)))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    todo.discard(m.partition())
                    continue
                raise KafkaException(m.error())
            value = m.value() or b""
            key = m.key()
            headers = {}
            for k, v in m.headers() or []:
                headers[k] = (v or b"").decode("utf-8", "replace")
            out.write(json.dumps({
                "topic": m.topic(),
                "partition": m.partition(),
                "offset": m.offset(),
                "key": key.decode("utf-8", "replace") if key is not None
                else None,
                "headers": headers,
                "len": len(value),
                "value": value.decode("utf-8", "replace"),
                "value_hex": value.hex(),
            }, sort_keys=True) + "\n")
    finally:
        c.close()


def alert_line(a):
    labels = a.get("labels") or {}
    if isinstance(labels, list):
        labels = {l["key"]: l["value"] for l in labels}
    lbl = ",".join("%s=%s" % (k, labels[k]) for k in sorted(labels)) or "-"
    th = "-"
    if a.get("budget"):
        th = "%g%%" % float(a["budget"]["threshold_percent"])
    return " ".join([a["type"], a["status"], a.get("scope") or "-",
                     lbl.replace(" ", "_"), a["window"]["start"], th])


def alert_set(path):
    lines = set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                lines.add(alert_line(json.loads(raw)))
    return sorted(lines)


def main(argv):
    if len(argv) >= 4 and argv[1] == "caught-up":
        return 0 if caught_up(argv[2], argv[3], argv[4:]) else 1
    if len(argv) == 4 and argv[1] == "dump":
        dump(argv[2], argv[3], sys.stdout)
        return 0
    if len(argv) == 4 and argv[1] == "count":
        print(count(argv[2], argv[3]))
        return 0
    if len(argv) == 3 and argv[1] == "alert-set":
        for line in alert_set(argv[2]):
            print(line)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
