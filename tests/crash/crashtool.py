#!/usr/bin/python3
"""The crash test's independent Kafka client and judge (confluent_kafka).

  crashtool.py produce BOOTSTRAP TOPIC FILE FROM TO [--rate R] [--gate FILE]
      produce lines [FROM, TO) of FILE (JSON lines) to partition 0 of TOPIC,
      R messages a second (0: as fast as possible), zstd-compressed in
      batches (the mock broker keeps only the newest ~5 MB of a partition,
      counted in stored bytes). With --gate, never run ahead of the number
      of lines the harness last wrote into FILE (it paces the workload to
      the kills). Idempotent producer; exit 0 only when every message is
      acknowledged.
  crashtool.py wait-caught-up BOOTSTRAP GROUP TOPIC TIMEOUT_S [--pid PID]
      poll until GROUP's committed offset equals the end offset of every
      partition of TOPIC; exit 1 on timeout, 3 at once when PID has died.
  crashtool.py kill-in-write STATE_DIR PID TIMEOUT_S
      SIGKILL PID the moment a snapshot's temporary file (*.tmp) appears in
      STATE_DIR, that is inside a snapshot write; exit 1 if none appeared
      within TIMEOUT_S (PID is left alone then).
  crashtool.py kill-after-rename STATE_DIR PID TIMEOUT_S
      the same, the moment a new snapshot-*.brs appears: after the rename,
      most likely before its offsets reach the group.
  crashtool.py dump BOOTSTRAP TOPIC OUT
      every message of TOPIC, beginning to current end, one JSON object per
      line: partition, offset, key, value.
  crashtool.py stopped-stats LOG
      the `msg=stopped` stats line of a burnrate log as JSON (the fallback
      state when `burnrate snapshot show` does not exist).
  crashtool.py workload-check ALERTS
      exit 1 unless the dumped alerts hold a cost_spike and budget
      thresholds 80 and 100 firing (the workload tests what it claims).
  crashtool.py compare REF CRASH
      REF and CRASH are directories holding state.json (snapshot show output,
      or the stopped-stats fallback) and alerts.jsonl (dump output); print
      the verdict; exit 1 when anything that must be 0 is not.
"""
import json
import os
import re
import sys
import time
from decimal import Decimal

EOF_CODE = -191  # KafkaError._PARTITION_EOF


def kafka():
    import confluent_kafka
    return confluent_kafka


def consumer(bootstrap, group):
    ck = kafka()
    return ck.Consumer({
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


# ---- produce ----

def read_gate(path):
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


def produce(bootstrap, topic, path, first, last, rate, gate):
    ck = kafka()
    with open(path, "rb") as f:
        lines = f.read().splitlines()[first:last]
    failed = []

    def on_delivery(err, _msg):
        if err is not None:
            failed.append(str(err))

    p = ck.Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        # zstd batches of ten or more of these messages compress enough to
        # keep a two-day workload (12 MB of JSON) whole in the mock's 5 MB
        # per partition; at a slow rate, linger longer to fill them.
        "compression.type": "zstd",
        "linger.ms": int(min(1000, max(100, 12000 / rate))) if rate > 0 else 100,
    })
    t0 = time.monotonic()
    sent = 0
    for i, line in enumerate(lines):
        if gate:
            while first + i >= read_gate(gate):
                p.poll(0.05)
                # Pace from where the gate opened, not from the start.
                t0 = time.monotonic() - sent / rate if rate > 0 else t0
        while rate > 0:
            # poll() returns early when it serves a delivery report.
            wait = t0 + sent / rate - time.monotonic()
            if wait <= 0:
                break
            p.poll(wait)
        while True:
            try:
                p.produce(topic, line, partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        sent += 1
        p.poll(0)
    left = p.flush(60)
    if left or failed:
        sys.stderr.write("crashtool produce: %d undelivered, %d failed: %s\n"
                         % (left, len(failed), failed[:3]))
        return 1
    return 0


# ---- caught up ----

def wait_caught_up(bootstrap, group, topic, timeout, pid):
    ck = kafka()
    c = consumer(bootstrap, group)
    deadline = time.monotonic() + timeout
    lag = None
    try:
        while True:
            if pid:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    sys.stderr.write("crashtool: burnrate (pid %d) exited\n" % pid)
                    return 3
            highs = {}
            for p in partitions(c, topic):
                _, hi = c.get_watermark_offsets(ck.TopicPartition(topic, p),
                                                timeout=10)
                highs[p] = hi
            lag = 0
            if highs:
                for tp in c.committed([ck.TopicPartition(topic, p)
                                       for p in highs], timeout=10):
                    done = tp.offset if tp.offset >= 0 else 0
                    lag += max(0, highs[tp.partition] - done)
            if highs and lag == 0:
                return 0
            if time.monotonic() > deadline:
                sys.stderr.write("crashtool: group %s still %s behind on %s "
                                 "after %ss\n" % (group, lag, topic, timeout))
                return 1
            time.sleep(0.2)
    finally:
        c.close()


# ---- kill inside a snapshot write ----

def snapshot_names(state_dir):
    try:
        return set(n for n in os.listdir(state_dir) if n.endswith(".brs"))
    except FileNotFoundError:
        return set()


def kill_in_write(state_dir, pid, timeout, after_rename=False):
    import signal
    deadline = time.monotonic() + timeout
    before = snapshot_names(state_dir)
    # A write lasts a few milliseconds: a tight loop sees it.
    while time.monotonic() < deadline:
        if after_rename:
            hit = bool(snapshot_names(state_dir) - before)
        else:
            try:
                names = os.listdir(state_dir)
            except FileNotFoundError:
                names = []
            hit = any(n.endswith(".tmp") for n in names)
        if hit:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return 1
            return 0
    return 1


# ---- dump ----

def dump(bootstrap, topic, out_path):
    ck = kafka()
    c = consumer(bootstrap, "crashtool-dump-%d" % time.monotonic_ns())
    try:
        todo = set()
        assign = []
        for p in partitions(c, topic):
            lo, hi = c.get_watermark_offsets(ck.TopicPartition(topic, p),
                                             timeout=10)
            if hi > lo:
                todo.add(p)
                assign.append(ck.TopicPartition(topic, p, lo))
        with open(out_path, "w", encoding="utf-8") as out:
            if assign:
                c.assign(assign)
            deadline = time.monotonic() + 60
            while todo:
                if time.monotonic() > deadline:
                    sys.stderr.write("crashtool dump %s: timed out\n" % topic)
                    return 1
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == EOF_CODE:
                        todo.discard(m.partition())
                        continue
                    raise ck.KafkaException(m.error())
                key = m.key()
                out.write(json.dumps({
                    "partition": m.partition(),
                    "offset": m.offset(),
                    "key": key.decode("utf-8", "replace") if key else None,
                    "value": (m.value() or b"").decode("utf-8", "replace"),
                }) + "\n")
    finally:
        c.close()
    return 0


# ---- stopped stats (fallback) ----

STOPPED_KEYS = ("messages", "ok", "skipped", "dead_letters", "duplicates",
                "late", "unpriced", "alerts", "total")


def stopped_stats(log_path):
    line = None
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            if "msg=stopped" in raw:
                line = raw
    if line is None:
        return None
    kv = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
    stats = {}
    for k in STOPPED_KEYS:
        if k in kv:
            v = kv[k].strip('"')
            stats[k] = v if k == "total" else int(v)
    return {"fallback": "msg=stopped line of %s" % os.path.basename(log_path),
            "stats": stats}


# ---- compare ----

def load_alerts(path, plain=False):
    """id -> {revision -> [content without emitted_at, ...]}, the number of
    messages and of unreadable ones. plain: FILE holds the alerts themselves
    (replay's output), not dump lines."""
    by_id = {}
    n = 0
    bad = 0
    with open(path, encoding="utf-8") as f:
        for raw in f:
            if not raw.strip():
                continue
            n += 1
            try:
                if plain:
                    m = {"key": None}
                    a = json.loads(raw)
                else:
                    m = json.loads(raw)
                    a = json.loads(m["value"])
                aid, rev = a["id"], int(a["revision"])
            except (ValueError, KeyError, TypeError):
                bad += 1
                continue
            if m.get("key") not in (None, aid):
                bad += 1
            a.pop("emitted_at", None)
            body = json.dumps(a, sort_keys=True)
            by_id.setdefault(aid, {}).setdefault(rev, []).append(body)
    return by_id, n, bad


def dec(v):
    return Decimal(str(v)) if v is not None else None


def series_map(state):
    out = {}
    for s in state.get("series") or []:
        labels = s.get("labels") or {}
        key = "%s{%s}" % (s["scope"], ",".join(
            "%s=%s" % (k, labels[k]) for k in sorted(labels)))
        out[key] = dec(s["total"])
    return out


def budget_map(state):
    out = {}
    for b in state.get("budgets") or []:
        for p in b.get("periods") or []:
            key = "%s[%s]" % (b["name"], p.get("start"))
            out[key] = (dec(p.get("spent")), tuple(p.get("fired_bp") or ()))
    return out


def compare(ref_dir, crash_dir, info):
    ref = json.load(open(os.path.join(ref_dir, "state.json"), encoding="utf-8"))
    crash = json.load(open(os.path.join(crash_dir, "state.json"),
                           encoding="utf-8"))
    failures = []
    rows = []

    def row(name, value, must_zero=False, note=""):
        rows.append((name, value, note))
        if must_zero and value not in (0, Decimal(0)):
            failures.append(name)

    # Facts of the harness; a name given as "!name" must be 0.
    for k, v in info.items():
        if k.startswith("!"):
            row(k[1:], int(v), True)
        else:
            rows.append((k, v, ""))

    if "fallback" in ref or "fallback" in crash:
        rows.append(("state source", "fallback: %s / %s" % (
            ref.get("fallback", "snapshot"), crash.get("fallback", "snapshot")),
            "no `burnrate snapshot show`: the last run's counters only"))
    rs, cs = ref.get("stats") or {}, crash.get("stats") or {}
    rm, cm = int(rs.get("messages", 0)), int(cs.get("messages", 0))
    row("messages (reference / crashed)", "%d / %d" % (rm, cm))
    row("lost events", max(0, rm - cm), True)
    row("double-counted events", max(0, cm - rm), True)
    # Every other counter of the state (ok, duplicates, priced, alerts...).
    for k in sorted(set(rs) | set(cs)):
        if k in ("messages", "total", "late_money"):
            continue  # money: compared as decimals below
        a, b = int(rs.get(k, 0)), int(cs.get(k, 0))
        row("%s mismatch (crashed - reference)" % k, b - a, True,
            "reference %d, crashed %d" % (a, b))
    if "watermark" in ref or "watermark" in crash:
        same = ref.get("watermark") == crash.get("watermark")
        row("watermark mismatch", 0 if same else 1, True, "%s vs %s" % (
            ref.get("watermark"), crash.get("watermark")))
    if "dedup" in ref or "dedup" in crash:
        a = int((ref.get("dedup") or {}).get("ids", 0))
        b = int((crash.get("dedup") or {}).get("ids", 0))
        row("dedup window ids mismatch (crashed - reference)", b - a, True,
            "reference %d, crashed %d" % (a, b))
    rt, ct = dec(rs.get("total", "0")), dec(cs.get("total", "0"))
    row("total money (reference / crashed)", "%s / %s" % (rt, ct))
    row("lost money", max(Decimal(0), rt - ct), True)
    row("double-counted money", max(Decimal(0), ct - rt), True)
    rl, cl = dec(rs.get("late_money", "0")), dec(cs.get("late_money", "0"))
    row("late money mismatch (crashed - reference)", abs(cl - rl), True,
        "reference %s, crashed %s" % (rl, cl))

    if "series" in ref and "series" in crash:
        a, b = series_map(ref), series_map(crash)
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        row("series compared", len(a))
        row("series total mismatches", len(diff), True,
            "; ".join("%s %s != %s" % (k, a.get(k), b.get(k))
                      for k in diff[:5]))
    if "budgets" in ref and "budgets" in crash:
        a, b = budget_map(ref), budget_map(crash)
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        row("budget periods compared", len(a))
        row("budget period mismatches", len(diff), True,
            "; ".join("%s %s != %s" % (k, a.get(k), b.get(k))
                      for k in diff[:5]))
    if "incidents" in ref and "incidents" in crash:
        a = {i["id"]: i["revision"] for i in ref["incidents"]}
        b = {i["id"]: i["revision"] for i in crash["incidents"]}
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        row("open incident mismatches", len(diff), True,
            "; ".join("%s %s != %s" % (k, a.get(k), b.get(k))
                      for k in diff[:5]))

    ra, rn, rbad = load_alerts(os.path.join(ref_dir, "alerts.jsonl"))
    ca, cn, cbad = load_alerts(os.path.join(crash_dir, "alerts.jsonl"))
    row("alert messages (reference / crashed)", "%d / %d" % (rn, cn))
    row("alert ids (reference / crashed)", "%d / %d" % (len(ra), len(ca)))
    row("unreadable or mis-keyed alert messages", rbad + cbad, True)
    missing = sorted(set(ra) - set(ca))
    extra = sorted(set(ca) - set(ra))
    row("missing alert ids", len(missing), True, " ".join(missing[:5]))
    row("extra alert ids", len(extra), True, " ".join(extra[:5]))
    dups = sum(len(v) - 1 for revs in ca.values() for v in revs.values())
    ref_dups = sum(len(v) - 1 for revs in ra.values() for v in revs.values())
    row("duplicate alert messages (counted)", dups,
        note="re-emitted after a crash with the same id and revision")
    row("duplicate alert messages in the reference", ref_dups, True)
    conflicts = sorted(aid for aid, revs in ca.items()
                       if any(len(set(v)) > 1 for v in revs.values()))
    row("re-emitted alerts whose content changed", len(conflicts), True,
        " ".join(conflicts[:5]))
    final_diff = []
    rev_missing = 0
    for aid in sorted(set(ra) & set(ca)):
        rtop, ctop = max(ra[aid]), max(ca[aid])
        if rtop != ctop or ra[aid][rtop][0] != ca[aid][ctop][0]:
            final_diff.append("%s (revision %d vs %d)" % (aid, rtop, ctop))
        rev_missing += len(set(ra[aid]) - set(ca[aid]))
    row("final-revision mismatches", len(final_diff), True,
        "; ".join(final_diff[:5]))
    row("alert revisions never emitted by the crashed run", rev_missing,
        note="revisions of the reference that the crashed run never emitted")

    replay = os.path.join(ref_dir, "replay.jsonl")
    if os.path.exists(replay):
        # Replay ends its input: it closes open periods and incidents with
        # revisions the live run has not reached yet. Every revision the
        # live run emitted must be among replay's, with the same content.
        pa, _, pbad = load_alerts(replay, plain=True)
        diff = []
        for aid, revs in sorted(ra.items()):
            for rev, bodies in sorted(revs.items()):
                if bodies[0] not in pa.get(aid, {}).get(rev, []):
                    diff.append("%s revision %d" % (aid, rev))
        extra = sum(len(set(revs) - set(ra.get(aid, {})))
                    for aid, revs in pa.items())
        row("alert revisions replay --kafka disagrees on", len(diff) + pbad,
            True, "; ".join(diff[:5]))
        row("replay's end-of-input revisions (counted)", extra,
            note="periods and incidents replay closes at the end of its input")

    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        line = "%-*s  %s" % (width, name, value)
        if note and value not in (0, Decimal(0)):
            line += "   (%s)" % note
        print(line)
    if failures:
        print("FAIL: %s" % ", ".join(failures))
        return 1
    print("PASS: the crashed run's state and alerts equal the crash-free run's")
    return 0


def workload_check(path):
    seen = set()
    with open(path, encoding="utf-8") as f:
        for raw in f:
            a = json.loads(json.loads(raw)["value"])
            if a.get("status") != "firing":
                continue
            if a.get("type") == "cost_spike":
                seen.add("a cost_spike")
            b = a.get("budget") or {}
            if b.get("threshold_percent") is not None:
                seen.add("budget threshold %g%%" % float(b["threshold_percent"]))
    want = ["a cost_spike", "budget threshold 80%", "budget threshold 100%"]
    missing = [w for w in want if w not in seen]
    if missing:
        sys.stderr.write("no alert for %s\n" % ", ".join(missing))
        return 1
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "produce" and len(argv) >= 7:
        rate, gate = 0.0, None
        rest = argv[7:]
        while rest:
            if rest[0] == "--rate":
                rate = float(rest[1])
            elif rest[0] == "--gate":
                gate = rest[1]
            else:
                break
            rest = rest[2:]
        return produce(argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]),
                       rate, gate)
    if cmd == "wait-caught-up" and len(argv) in (6, 8):
        pid = int(argv[7]) if len(argv) == 8 else 0
        return wait_caught_up(argv[2], argv[3], argv[4], float(argv[5]), pid)
    if cmd in ("kill-in-write", "kill-after-rename") and len(argv) == 5:
        return kill_in_write(argv[2], int(argv[3]), float(argv[4]),
                             cmd == "kill-after-rename")
    if cmd == "dump" and len(argv) == 5:
        return dump(argv[2], argv[3], argv[4])
    if cmd == "stopped-stats" and len(argv) == 3:
        s = stopped_stats(argv[2])
        if s is None:
            sys.stderr.write("crashtool: no msg=stopped line in %s\n" % argv[2])
            return 1
        print(json.dumps(s))
        return 0
    if cmd == "workload-check" and len(argv) == 3:
        return workload_check(argv[2])
    if cmd == "compare" and len(argv) >= 4:
        info = {}
        for kv in argv[4:]:
            k, _, v = kv.partition("=")
            info[k.replace("_", " ")] = v
        return compare(argv[2], argv[3], info)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
