#!/usr/bin/python3
"""Independent Kafka clients (confluent_kafka) for tests/it_fault.sh.

  faultkit.py feed --rate R --file F --topic T --status S [--hold N:FILE] BOOTSTRAP...
      produce every line of F, in order, to partition 0 of T on each cluster,
      paced at R lines/s; S is rewritten every 100 ms with the progress.
      With --hold, stop after N lines until FILE exists.
      Idempotent, acks=all, max.in.flight=1 (librdkafka 2.0.2's mock cluster
      may lose an acknowledged message of an idempotent producer with more
      than one request in flight when Produce errors are injected), and a
      bounded queue (4000 messages) so a long outage blocks the feed instead
      of piling up more than the mock keeps per partition (~5 MB).
  faultkit.py sample --group G --topic T --out F --stop FILE BOOTSTRAP
      every 200 ms until FILE exists, append "wall_ms committed high" of
      T[0] for G (or "wall_ms - -" when the cluster did not answer).
  faultkit.py caught-up BOOTSTRAP GROUP TOPIC N
      exit 0 when GROUP's committed offset of TOPIC[0] and its high watermark
      are both N.
  faultkit.py dump BOOTSTRAP TOPIC OUT
      every message of TOPIC (all partitions), values as JSON lines.
  faultkit.py stalls PHASES SAMPLES
      per phase, the longest stretch without progress although input was
      waiting (see stalls()).
  faultkit.py compare FAULT_LOG REF_LOG FAULT_ALERTS REF_ALERTS N [FAULT_SNAP REF_SNAP]
      compare the faulted run with the fault-free reference; exit 1 on any
      difference.
"""
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition


def now_ms():
    return int(time.time() * 1000)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def feed(args):
    opts = {"--rate": None, "--file": None, "--topic": None, "--status": None,
            "--hold": None}
    rest = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    rate = float(opts["--rate"])
    lines = [l.rstrip("\n") for l in open(opts["--file"]) if l.strip()]
    topic, status = opts["--topic"], opts["--status"]
    hold_at, hold_file = -1, None
    if opts["--hold"]:
        h, hold_file = opts["--hold"].split(":", 1)
        hold_at = int(h)
    acked = [0] * len(rest)
    failed = [0] * len(rest)
    errors = []

    def on_delivery(idx):
        def cb(err, msg):
            if err is not None:
                failed[idx] += 1
                if len(errors) < 20:
                    errors.append("cluster %d: %s" % (idx, err))
            else:
                acked[idx] += 1
        return cb

    producers = []
    for idx, b in enumerate(rest):
        producers.append((Producer({
            "bootstrap.servers": b,
            "enable.idempotence": True,
            "acks": "all",
            "max.in.flight.requests.per.connection": 1,
            "linger.ms": 5,
            "message.timeout.ms": 600000,
            "queue.buffering.max.messages": 4000,
            # The feed should resume as soon as a broker does: the test
            # measures burnrate's recovery, not the feeder's backoff.
            "reconnect.backoff.max.ms": 500,
            "topic.metadata.refresh.interval.ms": 1000,
        }), on_delivery(idx)))

    def report(done=False):
        write_atomic(status, "sent=%d acked=%s failed=%s done=%d\n" % (
            sent, ",".join(map(str, acked)), ",".join(map(str, failed)),
            1 if done else 0))

    t0 = time.monotonic()
    last_report = 0.0
    sent = 0
    for n, line in enumerate(lines):
        if n == hold_at:
            held = time.monotonic()
            report()
            while not os.path.exists(hold_file):
                for p, _ in producers:
                    p.poll(0.05)
                report()
            t0 += time.monotonic() - held
        due = t0 + n / rate
        while True:
            wait = due - time.monotonic()
            for p, _ in producers:
                p.poll(0)
            if wait <= 0:
                break
            time.sleep(min(wait, 0.02))
        blocked_at = None
        for p, cb in producers:
            while True:
                try:
                    p.produce(topic, line.encode(), partition=0, on_delivery=cb)
                    break
                except BufferError:
                    if blocked_at is None:
                        blocked_at = time.monotonic()
                    p.poll(0.05)
                    report()
        if blocked_at is not None:
            # A full queue (brokers away) pauses the schedule rather than
            # building up a burst to catch up with afterwards.
            t0 += time.monotonic() - blocked_at
        sent = n + 1
        if time.monotonic() - last_report >= 0.1:
            report()
            last_report = time.monotonic()
    report()
    for p, _ in producers:
        while len(p) > 0:
            p.flush(0.1)
            report()
    report(done=True)
    for e in errors:
        print("feed: delivery failed: %s" % e, file=sys.stderr)
    ok = all(a == len(lines) for a in acked) and not any(failed)
    return 0 if ok else 1


def consumer(bootstrap, group):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,
        "socket.timeout.ms": 1500,
        "reconnect.backoff.max.ms": 200,
        "topic.metadata.refresh.interval.ms": 500,
    })


def sample(args):
    opts = {"--group": None, "--topic": None, "--out": None, "--stop": None}
    i = 0
    bootstrap = None
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            bootstrap = args[i]
            i += 1
    # Never subscribes, never commits: only OffsetFetch and ListOffsets.
    c = consumer(bootstrap, opts["--group"])
    tp = TopicPartition(opts["--topic"], 0)
    with open(opts["--out"], "a", buffering=1) as out:
        while not os.path.exists(opts["--stop"]):
            t = now_ms()
            try:
                hi = c.get_watermark_offsets(tp, timeout=1.0, cached=False)
                com = c.committed([tp], timeout=1.0)[0].offset
                if hi is None:
                    raise RuntimeError("no watermarks")
                out.write("%d %d %d\n" % (t, com, hi[1]))
            except Exception:
                out.write("%d - -\n" % t)
            rest = 0.2 - (now_ms() - t) / 1000.0
            if rest > 0:
                time.sleep(rest)
    c.close()
    return 0


def caught_up(bootstrap, group, topic, n):
    c = consumer(bootstrap, group)
    try:
        tp = TopicPartition(topic, 0)
        lo, hi = c.get_watermark_offsets(tp, timeout=5, cached=False)
        com = c.committed([tp], timeout=5)[0].offset
        return 0 if hi == n and com == n else 1
    except Exception:
        return 1
    finally:
        c.close()


def dump(bootstrap, topic, out_path):
    c = consumer(bootstrap, "faultkit-dump-%d" % time.monotonic_ns())
    try:
        md = c.list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        parts = sorted(t.partitions) if t is not None and t.error is None else []
        tps = []
        for p in parts:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if hi > lo:
                tps.append(TopicPartition(topic, p, lo))
        left = len(tps)
        with open(out_path, "w") as out:
            if not tps:
                return 0
            c.assign(tps)
            deadline = time.monotonic() + 60
            while left > 0 and time.monotonic() < deadline:
                m = c.poll(1.0)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        left -= 1
                        continue
                    raise RuntimeError(str(m.error()))
                out.write(m.value().decode("utf-8", "replace") + "\n")
        return 0 if left == 0 else 1
    finally:
        c.close()


def stalls(phases_path, samples_path):
    """
    A stall is the wall-clock stretch from the last sample that showed
    progress (the group's committed offset moved) or nothing to do
    (committed == high watermark) to the next such sample, while the samples
    between saw input waiting (high > committed) or could not reach the
    cluster. Committed offsets move only when burnrate commits, so the
    resolution is its commit cadence (auto-commit interval, or snapshot
    interval once offsets follow snapshots) plus the 200 ms sampling period;
    a stall is attributed to the phase in effect one second after its last
    progress, and reports how long after that phase ended (its fault lifted)
    progress resumed.
    """
    phases = []
    for line in open(phases_path):
        t, name = line.split(" ", 1)
        phases.append((int(t), name.strip()))
    samples = []
    for line in open(samples_path):
        f = line.split()
        if len(f) != 3:
            continue
        if f[1] == "-":
            samples.append((int(f[0]), None, None))
        else:
            samples.append((int(f[0]), int(f[1]), int(f[2])))
    if not phases or not samples:
        print("no phases or no samples")
        return 1
    # (name, start, end) with end = next phase's start (or the last sample)
    spans = []
    for i, (pt, pn) in enumerate(phases):
        pe = phases[i + 1][0] if i + 1 < len(phases) else samples[-1][0]
        spans.append((pn, pt, pe))

    found = []          # (start, end) of each stall
    failed = [0] * len(spans)
    anchor = None       # time of the last progress / idle sample
    last_com = None
    for t, com, hi in samples:
        if com is None:
            for i, (_, ps, pe) in enumerate(spans):
                if ps <= t < pe:
                    failed[i] += 1
            continue
        progressed = last_com is not None and com > last_com
        idle = com >= hi
        last_com = com if last_com is None else max(last_com, com)
        if anchor is None:
            anchor = t
            continue
        if progressed or idle:
            if t - anchor > 0:
                found.append((anchor, t))
            anchor = t
    t0 = phases[0][0]
    print("longest stall per phase: wall time during which input was waiting "
          "and the group's committed offset did not move (sampled every "
          "200 ms; t=0 at the first phase):")
    worst = (0, "-")
    for i, (pn, ps, pe) in enumerate(spans):
        mine = [(e - s, s, e) for s, e in found if ps <= s + 1000 < pe]
        if not mine:
            print("  %-30s  0.0 s  (%d samples unanswered)" % (pn, failed[i]))
            continue
        d, s, e = max(mine)
        if d > worst[0]:
            worst = (d, pn)
        after = ""
        if e > pe:
            after = ", resumed %.1f s after the phase ended" % ((e - pe) / 1000.0)
        print("  %-30s %4.1f s  (t=%.1f..%.1f%s; %d samples unanswered)" % (
            pn, d / 1000.0, (s - t0) / 1000.0, (e - t0) / 1000.0, after,
            failed[i]))
    print("longest stall overall: %.1f s (phase %s)" % (worst[0] / 1000.0,
                                                        worst[1]))
    return 0


def stopped_stats(log_path):
    line = None
    for l in open(log_path):
        if "msg=stopped" in l:
            line = l
    if line is None:
        return None
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def load_alerts(path):
    rows = []
    for line in open(path):
        if line.strip():
            a = json.loads(line)
            rows.append(a)
    return rows


def strip(a):
    a = dict(a)
    a.pop("emitted_at", None)
    return json.dumps(a, sort_keys=True)


def compare(args):
    fault_log, ref_log, fault_alerts, ref_alerts, n = args[:5]
    n = int(n)
    problems = []
    fs, rs = stopped_stats(fault_log), stopped_stats(ref_log)
    keys = ["messages", "ok", "skipped", "dead_letters", "alerts", "series",
            "priced", "unpriced", "late", "total"]
    if fs is None or rs is None:
        problems.append("no msg=stopped line (faulted: %s, reference: %s)" % (
            fs is not None, rs is not None))
    else:
        print("final stats (msg=stopped)   faulted        reference")
        for k in keys:
            mark = "" if fs.get(k) == rs.get(k) else "   <-- differs"
            print("  %-12s %18s %18s%s" % (k, fs.get(k), rs.get(k), mark))
            if k != "alerts" and fs.get(k) != rs.get(k):
                problems.append("stats %s: faulted %s, reference %s" % (
                    k, fs.get(k), rs.get(k)))
        if rs.get("messages") != str(n):
            problems.append("reference counted %s messages, %d were fed" % (
                rs.get("messages"), n))
        if fs.get("alerts") != rs.get("alerts"):
            # Counted per emission: a re-emission after a re-read shows here.
            print("  (alerts counts emissions; re-emissions are allowed, "
                  "checked by id below)")
    fa, ra = load_alerts(fault_alerts), load_alerts(ref_alerts)
    ref_by = {}
    for a in ra:
        ref_by.setdefault((a["id"], a["revision"]), set()).add(strip(a))
    fault_by = {}
    for a in fa:
        fault_by.setdefault((a["id"], a["revision"]), []).append(strip(a))
    missing = sorted(k for k in ref_by if k not in fault_by)
    extra = sorted(k for k in fault_by if k not in ref_by)
    differ = sorted(k for k in ref_by if k in fault_by
                    and any(s not in ref_by[k] for s in fault_by[k]))
    ref_final = {}
    for (i, r) in ref_by:
        ref_final[i] = max(r, ref_final.get(i, 0))
    fault_final = {}
    for (i, r) in fault_by:
        fault_final[i] = max(r, fault_final.get(i, 0))
    final_differ = sorted(i for i in ref_final
                          if fault_final.get(i) != ref_final[i])
    dups = len(fa) - len(fault_by)
    print("alerts: reference %d messages, %d ids; faulted %d messages, %d ids"
          % (len(ra), len(ref_final), len(fa), len(fault_final)))
    print("  missing (id, revision): %d   extra: %d   content differs: %d   "
          "final revision differs: %d   duplicate messages: %d" % (
              len(missing), len(extra), len(differ), len(final_differ), dups))
    for k in missing[:10]:
        print("    missing %s rev %d" % k)
    for k in extra[:10]:
        print("    extra %s rev %d" % k)
    for k in differ[:5]:
        print("    differs %s rev %d:\n      faulted   %s\n      reference %s" % (
            k[0], k[1], fault_by[k][0][:400], sorted(ref_by[k])[0][:400]))
    if missing or extra or differ or final_differ:
        problems.append("alert topic differs from the reference")
    if len(ra) == 0:
        problems.append("the reference emitted no alerts: the workload is wrong")
    if len(args) >= 7:
        snaps = []
        for p in args[5:7]:
            with open(p) as f:
                snaps.append(json.load(f))
        print("snapshots (burnrate snapshot show):")
        for snap in snaps:
            # Alert emissions: re-emissions are allowed, checked by id above.
            if isinstance(snap.get("stats"), dict):
                snap["stats"].pop("alerts", None)
        for k in ["stats", "series", "budgets", "incidents", "offsets",
                  "watermark"]:
            same = snaps[0].get(k) == snaps[1].get(k)
            print("  %-10s %s" % (k, "equal" if same else "DIFFER"))
            if not same:
                problems.append("snapshot %s differs" % k)
                print("    faulted   %s" % json.dumps(snaps[0].get(k))[:600])
                print("    reference %s" % json.dumps(snaps[1].get(k))[:600])
    for p in problems:
        print("MISMATCH: %s" % p)
    return 1 if problems else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "feed":
        return feed(args)
    if cmd == "sample":
        return sample(args)
    if cmd == "caught-up":
        return caught_up(args[0], args[1], args[2], int(args[3]))
    if cmd == "dump":
        return dump(args[0], args[1], args[2])
    if cmd == "stalls":
        return stalls(args[0], args[1])
    if cmd == "compare":
        return compare(args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
