#!/usr/bin/python3
"""The labelled detection benchmark behind scripts/eval (issue 5): a seeded
generator of hourly cost series with known anomalies, and the scorer that
matches burnrate's cost_spike alerts to those labels. Standard library only.

  bench.py gen   --out DIR [--seed N] [--teams N] [--models N] [--weeks N]
  bench.py score --dir DIR --alerts FILE [--json FILE] [--down-watched yes|no]

gen writes DIR/events.jsonl (custom dialect: ts, team, model, cost),
DIR/labels.jsonl (one line per labelled anomaly or planned level shift) and
DIR/meta.json (bucket, start, series). score prints the table.
"""
import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys

BUCKET = 3600
T0 = 1736121600          # 2025-01-06T00:00:00Z, a Monday
WEEK = 7 * 24
FIRST_ANOMALY = WEEK     # one week of clean history before any label
MIN_EXCESS = 25.0        # every upward anomaly adds at least this per bucket
                         # (2.5x burnrate's default min_impact)
SHIFT_HORIZON = 48       # buckets after a level shift in which an alert is
                         # blamed on the shift
ECHO_HORIZON = 24        # buckets after an anomaly (or a collapse) in which
                         # an unmatched alert is blamed on it

CREDIT_HORIZON = 3       # buckets after a credit row in which an alert is
                         # blamed on it
UP_KINDS = ("spike", "plateau", "ramp")
TARGETS = {"precision": 0.9, "recall": 0.9, "delay": 1.0, "fa100": 1.0}


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s):
    """RFC 3339 as burnrate writes it (Z, optional milliseconds) -> epoch s."""
    s = s.replace("Z", "+00:00")
    return dt.datetime.fromisoformat(s).timestamp()


# ---------------------------------------------------------------- generator

def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def student_t(rng, df):
    z = rng.gauss(0.0, 1.0)
    chi2 = sum(rng.gauss(0.0, 1.0) ** 2 for _ in range(df))
    return z / math.sqrt(chi2 / df)


class Series:
    """One team x model series: its shape parameters and its labels."""

    def __init__(self, rng, team, model, nb):
        self.team, self.model, self.nb = team, model, nb
        u = rng.random()
        self.cls = "dense" if u < 0.60 else ("heavy" if u < 0.78 else "sparse")
        self.level = loguniform(rng, 2.0, 200.0)     # mean spend per hour
        self.tz = rng.choice((-8, -5, 0, 1, 5, 8))    # local hour offset
        self.amp = rng.uniform(0.2, 0.9)              # daily swing
        self.peak = rng.uniform(11, 16)               # local hour of the peak
        self.weekend = rng.uniform(0.25, 1.0)         # weekend factor
        self.trend = rng.uniform(-0.2, 0.5)           # growth over the history
        self.sigma = rng.uniform(0.05, 0.25) if self.cls == "dense" else rng.uniform(0.1, 0.2)
        self.p_active = rng.uniform(0.05, 0.35)       # sparse: share of busy hours
        self.burst = loguniform(rng, 3.0, 40.0)       # sparse: typical burst
        self.credits = self.cls != "sparse" and rng.random() < 0.25
        self.shift_at, self.shift = None, 1.0
        self.labels = []

    def shape(self, b):
        """Seasonal, trend and level-shift factor of bucket b (mean 1 before shifts)."""
        local = (b + self.tz) % (24 * 7)
        hour, dow = local % 24, local // 24
        f = 1.0 + self.amp * math.cos(2 * math.pi * (hour - self.peak) / 24)
        if dow >= 5:
            f *= self.weekend
        f *= 1.0 + self.trend * b / self.nb
        if self.shift_at is not None and b >= self.shift_at:
            f *= self.shift
        return f

    def expected(self, b):
        return self.level * self.shape(b)


def place(rng, taken, lo, hi, length, gap):
    """A start in [lo, hi - length) whose span keeps `gap` buckets from every
    span in taken, or None after a few tries."""
    for _ in range(50):
        if hi - length <= lo:
            return None
        s = rng.randrange(lo, hi - length)
        if all(s + length + gap <= a or s >= b + gap for a, b in taken):
            return s
    return None


def plan(rng, s):
    """Level shift and anomalies of series s, as labels."""
    nb = s.nb
    taken = []
    if s.cls != "sparse" and rng.random() < 0.2:
        at = place(rng, taken, FIRST_ANOMALY, nb - SHIFT_HORIZON, 1, 0)
        if at is not None:
            s.shift_at, s.shift = at, rng.uniform(1.3, 1.7)
            taken.append((at - 24, at + SHIFT_HORIZON))
            s.labels.append({"kind": "level_shift", "anomaly": False, "direction": "up",
                             "start": at, "end": at + SHIFT_HORIZON - 1,
                             "factor": round(s.shift, 3)})
    n = rng.randint(1, 3) if s.cls != "sparse" else rng.randint(0, 2)
    for _ in range(n):
        kinds = ("spike", "plateau", "ramp", "drop")
        weights = (0.35, 0.30, 0.20, 0.15)
        if s.cls == "sparse":
            kinds, weights = ("spike", "plateau"), (0.6, 0.4)
        kind = rng.choices(kinds, weights)[0]
        if kind == "drop" and s.level < 20:
            kind = "plateau"
        length = {"spike": 1, "plateau": rng.randint(3, 12), "ramp": rng.randint(4, 10),
                  "drop": rng.randint(3, 12)}[kind]
        start = place(rng, taken, FIRST_ANOMALY, nb - 12, length, 72)
        if start is None:
            continue
        taken.append((start, start + length))
        lab = {"kind": kind, "anomaly": True, "direction": "down" if kind == "drop" else "up",
               "start": start, "end": start + length - 1}
        if kind == "drop":
            lab["factor"] = round(rng.uniform(0.0, 0.2), 3)
        elif s.cls == "sparse":
            lab["ratio"] = round(loguniform(rng, 5.0, 20.0), 3)
        else:
            lab["ratio"] = round(loguniform(rng, 2.0, 8.0) if kind != "ramp"
                                 else loguniform(rng, 3.0, 8.0), 3)
        s.labels.append(lab)
    s.labels.sort(key=lambda lab: lab["start"])


def amounts(rng, s):
    """Per bucket: (usage amount, credit amount); usage may be 0 (empty)."""
    ups = {}
    downs = {}
    for lab in s.labels:
        if not lab["anomaly"]:
            continue
        for i, b in enumerate(range(lab["start"], lab["end"] + 1)):
            if lab["kind"] == "drop":
                downs[b] = lab["factor"]
            else:
                frac = (i + 1) / (lab["end"] - lab["start"] + 1) if lab["kind"] == "ramp" else 1.0
                ups[b] = (lab, frac)
    out = []
    peak_excess = {}
    for b in range(s.nb):
        if s.cls == "sparse":
            p = min(0.95, s.p_active * s.shape(b))
            usage = s.burst * math.exp(0.6 * rng.gauss(0, 1) - 0.18) if rng.random() < p else 0.0
            if b in ups:
                lab, _ = ups[b]
                usage = max(s.burst * lab["ratio"], s.burst + MIN_EXCESS) * rng.uniform(0.9, 1.1)
                peak_excess[id(lab)] = max(peak_excess.get(id(lab), 0.0), usage - s.burst)
        else:
            exp_b = s.expected(b)
            if s.cls == "heavy":
                z = max(-6.0, min(6.0, student_t(rng, 4)))
                noise = math.exp(s.sigma * z - s.sigma ** 2 / 2)
            else:
                noise = math.exp(s.sigma * rng.gauss(0, 1) - s.sigma ** 2 / 2)
            usage = exp_b * noise
            if b in ups:
                lab, frac = ups[b]
                full = max((lab["ratio"] - 1.0) * exp_b, MIN_EXCESS * (1.6 if lab["kind"] == "ramp" else 1.0))
                excess = full * frac * rng.uniform(0.9, 1.1)
                usage += excess
                peak_excess[id(lab)] = max(peak_excess.get(id(lab), 0.0), excess)
            elif b in downs:
                usage *= downs[b]
        credit = 0.0
        if s.credits and rng.random() < 1 / 48:
            credit = -s.expected(b) * rng.uniform(0.3, 1.5)
        out.append((usage, credit))
    for lab in s.labels:
        if id(lab) in peak_excess:
            lab["peak_excess"] = round(peak_excess[id(lab)], 2)
    return out


def cmd_gen(a):
    teams = ["team%02d" % i for i in range(a.teams)]
    models = ["model%02d" % i for i in range(a.models)]
    nb = a.weeks * WEEK
    events = []
    labels = []
    series_meta = []
    counts = {"usage": 0, "credit": 0, "empty": 0}
    for i, (team, model) in enumerate((t, m) for t in teams for m in models):
        rng = random.Random("burnrate-eval:%d:%d" % (a.seed, i))
        s = Series(rng, team, model, nb)
        plan(rng, s)
        credit_buckets = []
        for b, (usage, credit) in enumerate(amounts(rng, s)):
            base = T0 + b * BUCKET
            if usage > 0.0:
                k = rng.choice((1, 1, 2, 3))
                cuts = sorted(rng.random() for _ in range(k - 1))
                parts = [hi - lo for lo, hi in zip([0.0] + cuts, cuts + [1.0])]
                times = sorted(rng.randrange(BUCKET) for _ in range(k))
                for t, p in zip(times, parts):
                    events.append((base + t, team, model, usage * p))
                counts["usage"] += 1
            else:
                counts["empty"] += 1
            if credit:
                events.append((base + rng.randrange(BUCKET), team, model, credit))
                counts["credit"] += 1
                credit_buckets.append(b)
        for lab in s.labels:
            lab["series"] = {"team": team, "model": model}
            lab["class"] = s.cls
            lab["start_time"] = iso(T0 + lab["start"] * BUCKET)
            lab["end_time"] = iso(T0 + (lab["end"] + 1) * BUCKET)
            labels.append(lab)
        series_meta.append({"team": team, "model": model, "class": s.cls,
                            "level": round(s.level, 2), "credit_buckets": credit_buckets})
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    with open(a.out + "/events.jsonl", "w") as f:
        for t, team, model, cost in events:
            f.write('{"ts":%d,"team":"%s","model":"%s","cost":%.6f}\n' % (t, team, model, cost))
    with open(a.out + "/labels.jsonl", "w") as f:
        for lab in labels:
            f.write(json.dumps(lab, sort_keys=True) + "\n")
    meta = {"seed": a.seed, "bucket_seconds": BUCKET, "start": iso(T0), "buckets": nb,
            "dims": ["team", "model"], "series": series_meta, "events": len(events),
            "first_anomaly_bucket": FIRST_ANOMALY, "bucket_counts": counts}
    with open(a.out + "/meta.json", "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    print(describe(meta, labels))


def describe(meta, labels):
    cls = {}
    for s in meta["series"]:
        cls[s["class"]] = cls.get(s["class"], 0) + 1
    kinds = {}
    for lab in labels:
        kinds[lab["kind"]] = kinds.get(lab["kind"], 0) + 1
    days = meta["buckets"] * meta["bucket_seconds"] / 86400
    c = meta["bucket_counts"]
    return ("workload: seed %d, %d series (%s) x %d hourly buckets (%.0f days from %s), "
            "%d events; %d%% of series-buckets empty, %d credit rows; labels: %s" % (
                meta["seed"], len(meta["series"]),
                ", ".join("%d %s" % (v, k) for k, v in sorted(cls.items())),
                meta["buckets"], days, meta["start"], meta["events"],
                round(100 * c["empty"] / max(1, c["empty"] + c["usage"])), c["credit"],
                ", ".join("%d %s" % (v, k) for k, v in sorted(kinds.items()))))


# ------------------------------------------------------------------- scorer

def load_incidents(path, bucket, t0):
    """Alerts grouped by id: one incident per id, revisions merged (window
    union, earliest event_time, the direction of the id's first line: burnrate
    writes revisions in order)."""
    by_id = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                a = json.loads(line)
                aid = a["id"]
            except (ValueError, KeyError, TypeError) as e:
                raise SystemExit("%s:%d: not an alert: %s" % (path, n, e))
            inc = by_id.get(aid)
            # cost_drop is burnrate's downward incident: scored as a
            # cost_spike going down.
            if a.get("type") not in ("cost_spike", "cost_drop"):
                if inc is None:
                    by_id[aid] = {"id": aid, "type": a.get("type"), "scope": a.get("scope")}
                continue
            ws = (parse_time(a["window"]["start"]) - t0) / bucket
            we = (parse_time(a["window"]["end"]) - t0) / bucket
            et = parse_time(a["event_time"])
            if inc is None:
                obs, exp_ = float(a.get("observed", 0)), float(a.get("expected", 0))
                direction = ("down" if a.get("type") == "cost_drop" else
                             a.get("direction") or ("down" if obs < exp_ else "up"))
                by_id[aid] = {"id": aid, "type": "cost_spike", "scope": a.get("scope"),
                              "labels": a.get("labels") or {}, "start": ws, "end": we,
                              "event_time": et, "direction": direction,
                              "revisions": 1}
            else:
                inc["start"] = min(inc["start"], ws)
                inc["end"] = max(inc["end"], we)
                inc["event_time"] = min(inc["event_time"], et)
                inc["revisions"] += 1
    return list(by_id.values())


def series_key(labels, dims):
    return tuple(labels.get(d) for d in dims)


def overlaps(inc, lab):
    """The alert's window overlaps the labelled buckets; it may start up to
    the label's last bucket."""
    return inc["start"] < lab["end"] + 1 and inc["end"] > lab["start"]


def ratio(n, d):
    return n / d if d else None


def f1(p, r):
    if p is None or r is None or p + r == 0:
        return None
    return 2 * p * r / (p + r)


def score(meta, labels, incidents, down_watched):
    bucket, dims = meta["bucket_seconds"], meta["dims"]
    t0 = parse_time(meta["start"])
    n_series = len(meta["series"])
    series_days = n_series * meta["buckets"] * bucket / 86400
    by_series = {}
    for lab in labels:
        lab["_hits"] = []
        by_series.setdefault(series_key(lab["series"], dims), []).append(lab)

    other_types, other_scope = {}, 0
    fps = []          # (incident, cause)
    down_fp = 0
    for inc in sorted(incidents, key=lambda i: (i.get("event_time", 0), i["id"])):
        if inc["type"] != "cost_spike":
            other_types[inc["type"]] = other_types.get(inc["type"], 0) + 1
            continue
        if set(inc["labels"]) != set(dims):
            other_scope += 1
            continue
        labs = by_series.get(series_key(inc["labels"], dims), [])
        want = "down" if inc["direction"] == "down" else "up"
        hits = [lab for lab in labs if lab["anomaly"] and lab["direction"] == want and overlaps(inc, lab)]
        if hits:
            hits[0]["_hits"].append(inc)
            continue
        if want == "down":
            down_fp += 1
            continue
        cause = "noise"
        for lab in labs:
            if lab["kind"] == "level_shift" and overlaps(inc, lab):
                cause = "level_shift"
            elif lab["kind"] == "drop" and lab["start"] <= inc["start"] <= lab["end"] + ECHO_HORIZON:
                cause = cause if cause == "level_shift" else "after_collapse"
            elif lab["anomaly"] and lab["end"] < inc["start"] <= lab["end"] + ECHO_HORIZON and cause == "noise":
                cause = "after_anomaly"
        fps.append((inc, cause))
    n_fp = len(fps)
    first_label = meta.get("first_anomaly_bucket", 0)
    credits = {series_key(s, dims): s.get("credit_buckets", []) for s in meta["series"]}
    for n, (inc, cause) in enumerate(fps):
        if cause != "noise":
            continue
        if any(c <= inc["start"] <= c + CREDIT_HORIZON
               for c in credits.get(series_key(inc["labels"], dims), [])):
            fps[n] = (inc, "credit")
        elif inc["start"] < first_label:
            fps[n] = (inc, "first_week")

    def delay(lab):
        first = min(i["event_time"] for i in lab["_hits"])
        return max(0, math.floor((first - t0) / bucket) - lab["start"])

    def row(name, labs, fp):
        n = len(labs)
        det = [lab for lab in labs if lab["_hits"]]
        tp_alerts = sum(len(lab["_hits"]) for lab in labs)
        p = ratio(tp_alerts, tp_alerts + fp)
        r = ratio(len(det), n)
        delays = [delay(lab) for lab in det]
        return {"row": name, "anomalies": n, "detected": len(det), "missed": n - len(det),
                "tp_alerts": tp_alerts, "extra_alerts": tp_alerts - len(det), "fp": fp,
                "precision": p, "recall": r, "f1": f1(p, r),
                "median_delay": float(statistics.median(delays)) if delays else None,
                "fa100": 100 * fp / series_days if series_days else None}

    ups = [lab for lab in labels if lab["anomaly"] and lab["direction"] == "up"]
    rows = [row(k, [lab for lab in ups if lab["kind"] == k], n_fp) for k in UP_KINDS]
    # A class row counts only the false alerts on series of that class, over
    # that class's series-days.
    cls_of = {series_key(s, dims): s.get("class") for s in meta["series"]}
    for c in ("dense", "heavy", "sparse"):
        n_c = sum(1 for v in cls_of.values() if v == c)
        if not n_c:
            continue
        fp_c = sum(1 for inc, _ in fps if cls_of.get(series_key(inc["labels"], dims)) == c)
        r = row("class " + c, [lab for lab in ups if lab["class"] == c], fp_c)
        r["fa100"] = 100 * fp_c / (series_days * n_c / n_series)
        rows.append(r)
    overall = row("upward, all", ups, n_fp)
    drops = [lab for lab in labels if lab["kind"] == "drop"]
    drop_row = row("drop", drops, down_fp)
    drop_row["watched"] = down_watched or any(lab["_hits"] for lab in drops) or down_fp > 0
    causes = {}
    for _, c in fps:
        causes[c] = causes.get(c, 0) + 1
    shifts = [lab for lab in labels if lab["kind"] == "level_shift"]
    fp_rows = []
    for c, what in (("level_shift", "planned level shift (%d)" % len(shifts)),
                    ("after_anomaly", "within %d buckets after an anomaly" % ECHO_HORIZON),
                    ("after_collapse", "during or after a usage collapse"),
                    ("first_week", "before the first label (the first week)"),
                    ("credit", "within %d buckets after a credit row" % CREDIT_HORIZON),
                    ("noise", "elsewhere (seasonality, trend, noise)")):
        fp_rows.append({"cause": c, "what": what, "fp": causes.get(c, 0),
                        "fa100": 100 * causes.get(c, 0) / series_days if series_days else None})
    return {"rows": rows, "overall": overall, "drop": drop_row, "fp_causes": fp_rows,
            "series": n_series, "series_days": series_days,
            "other_types": other_types, "other_scope": other_scope,
            "incidents": sum(1 for i in incidents if i["type"] == "cost_spike")}


def fmt(v, spec="%.2f", none="-"):
    return none if v is None else spec % v


def render(res):
    out = []
    w = out.append
    w("%-16s %5s %5s %5s %6s %5s %6s %6s %6s %7s %8s" % (
        "kind", "anom", "det", "miss", "alerts", "FP", "prec", "recall", "F1", "delay", "FA/100sd"))
    for r in res["rows"] + [res["overall"]]:
        if r is res["overall"]:
            w("-" * 86)
        w("%-16s %5d %5d %5d %6d %5d %6s %6s %6s %7s %8s" % (
            r["row"], r["anomalies"], r["detected"], r["missed"], r["tp_alerts"], r["fp"],
            fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]),
            fmt(r["median_delay"], "%g"), fmt(r["fa100"])))
    d = res["drop"]
    if d["watched"]:
        w("%-16s %5d %5d %5d %6d %5d %6s %6s %6s %7s %8s   (downward, scored apart)" % (
            "drop (down)", d["anomalies"], d["detected"], d["missed"], d["tp_alerts"], d["fp"],
            fmt(d["precision"]), fmt(d["recall"]), fmt(d["f1"]),
            fmt(d["median_delay"], "%g"), fmt(d["fa100"])))
    else:
        w("%-16s %5d   not watched yet (no downward spike alerts at default settings)" % (
            "drop (down)", d["anomalies"]))
    w("")
    w("false alerts by cause (upward; all count in FP above):")
    for c in res["fp_causes"]:
        w("  %-44s %5d  %s per 100 series-days" % (c["what"], c["fp"], fmt(c["fa100"])))
    extra = []
    if res["other_scope"]:
        extra.append("%d cost_spike incidents on other scopes (not scored)" % res["other_scope"])
    for t, n in sorted(res["other_types"].items()):
        extra.append("%d %s (not scored)" % (n, t))
    if extra:
        w("  also: " + "; ".join(extra))
    w("")
    o = res["overall"]
    checks = [("precision (upward)", o["precision"], ">= 0.90", lambda v: v >= TARGETS["precision"]),
              ("recall (upward)", o["recall"], ">= 0.90", lambda v: v >= TARGETS["recall"]),
              ("median delay, buckets", o["median_delay"], "<= 1", lambda v: v <= TARGETS["delay"]),
              ("false alerts / 100 series-days", o["fa100"], "< 1", lambda v: v < TARGETS["fa100"])]
    w("targets (issue 5, default settings):")
    for name, v, t, ok in checks:
        met = "n/a" if v is None else ("met" if ok(v) else "NOT met")
        w("  %-32s %8s   target %-8s %s" % (name, fmt(v, "%.2f" if "delay" not in name else "%g"), t, met))
    w("")
    w("anom: labelled anomalies; det/miss: with/without an alert; alerts: incidents (alert ids)")
    w("matched to them; FP: incidents matching no anomaly (the kind rows share all of them, so")
    w("a kind's precision is what it would be if that kind were the only one; a class row counts")
    w("those on its own series); delay: median buckets from the anomaly's first bucket to the")
    w("first alert's event time; FA/100sd: FP per 100 series-days (%d series, %.0f series-days)." % (
        res["series"], res["series_days"]))
    return "\n".join(out)


def cmd_score(a):
    with open(a.dir + "/meta.json") as f:
        meta = json.load(f)
    labels = []
    with open(a.dir + "/labels.jsonl") as f:
        for line in f:
            if line.strip():
                labels.append(json.loads(line))
    incidents = load_incidents(a.alerts, meta["bucket_seconds"], parse_time(meta["start"]))
    res = score(meta, labels, incidents, a.down_watched == "yes")
    print(render(res))
    if a.json:
        for r in res["rows"] + [res["overall"], res["drop"]]:
            r.pop("_hits", None)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--teams", type=int, default=12)
    g.add_argument("--models", type=int, default=16)
    g.add_argument("--weeks", type=int, default=6)
    s = sub.add_parser("score")
    s.add_argument("--dir", required=True)
    s.add_argument("--alerts", required=True)
    s.add_argument("--json")
    s.add_argument("--down-watched", choices=("yes", "no"), default="no")
    a = p.parse_args()
    if a.cmd == "gen":
        if a.weeks < 2 or a.teams < 1 or a.models < 1:
            p.error("gen needs --weeks >= 2 and at least one team and model")
        cmd_gen(a)
    else:
        cmd_score(a)


if __name__ == "__main__":
    sys.exit(main())
