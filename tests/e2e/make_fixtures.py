#!/usr/bin/python3
"""Writes the it_e2e.sh workload, whose alerts are known by construction.

Run from anywhere: `python3 tests/e2e/make_fixtures.py`; the files it writes
are committed, so the test never depends on this script. Why each alert in
expected_alerts.txt must happen is written next to the rows that cause it.

Event time (UTC), hour h counts from 2025-03-03T00:00 (a Monday):
- billing (FOCUS, input focus-billing): one EC2 row per hour for team
  platform, $10.00 flat for h = 0..39, except h = 32 (2025-03-04T08:00) at
  $200.00 (20x): a cost spike on total, resolved two quiet hours later;
  team=platform and service=Amazon Elastic Compute Cloud are unusual in the
  same incident and grouped under the total's alert (no alerts of their
  own). At
  h = 20 a $5000 "Tax" row, a charge category not counted by default: it
  must change nothing.
- tokens (OTel GenAI, input otel-usage): team search calls gpt-4o at h:30
  for h = 0..39 but 32 with 200000 input and 50000 output tokens, exactly
  $1.00 each (2.50 and 10.00 per million); none at h = 32, so that the
  spiking bucket of the total has one record and its alert one revision
  before it resolves, whichever input the consumer reads first. Budget
  search-daily ($20/day, thresholds 50 and 100) crosses 50% and 100% on
  2025-03-03 (resolved when the day closes) and 50% on 2025-03-04 (15 calls
  by h = 39).
- at 12:30 on day one a call to model acme-llm-9000, in no price table:
  one unpriced_model alert.
- at h = 30 (06:30 on day two, past the 24-bucket warm-up) team ml-research
  appears with one $6.00 claude-sonnet-4 call (1M input at $3, 200k output
  at $15 per million) from service research-notebooks: new_spend on
  team=ml-research and service=research-notebooks (new_spend_min is 5). The
  total moves by $6, under min_impact (10): no spike there.
- budget all-monthly ($1000, [50, 100]) sees $635 in March: 50% only.

The workload is cut in phases produced one after another, each fully
consumed before the next (the test waits for the group's commits): phase 1
is the first hour of both inputs, so both take part in the watermark before
either has a backlog; no phase spans more than 6 hours, so however the
consumer interleaves the two topics, one input never runs more than the
engine's 8 open buckets ahead of the other (which would make the other's
rows late for the shared total series); the phase holding h = 30 starts
once 24+ buckets are final.
"""
import json
import os

START = 1740960000  # 2025-03-03T00:00:00Z
HERE = os.path.dirname(os.path.abspath(__file__))


def ts(secs):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(secs))


def focus_row(h, cost, category="Usage", line=0):
    return {
        "BilledCost": cost,
        "EffectiveCost": cost,
        "BillingCurrency": "USD",
        "ChargeCategory": category,
        "ChargeDescription": "m6i.4xlarge On Demand Linux"
        if category == "Usage" else "Sales tax",
        "ChargePeriodStart": ts(START + h * 3600),
        "ChargePeriodEnd": ts(START + (h + 1) * 3600),
        "ProviderName": "AWS",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "ServiceCategory": "Compute",
        "SubAccountId": "412398765012",
        "SubAccountName": "platform-prod",
        "RegionId": "us-east-1",
        "ResourceId": "arn:aws:ec2:us-east-1:412398765012:instance/i-0a3f9c2e51b7d4e10",
        "SkuId": "EC2-BoxUsage:m6i.4xlarge",
        "Tags": {"team": "platform", "env": "prod"},
        "x_LineItemId": "li-%04d-%d" % (h, line),
    }


def otel(h, minute, team, service, provider, model, tin, tout, rid):
    return {
        "timestamp": ts(START + h * 3600 + minute * 60),
        "resource": {"attributes": {"service.name": service}},
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": model,
            "gen_ai.response.id": rid,
            "gen_ai.usage.input_tokens": tin,
            "gen_ai.usage.output_tokens": tout,
            "team": team,
        },
    }


def main():
    phases = [(0, 1), (1, 7), (7, 13), (13, 19), (19, 25), (25, 30),
              (30, 36), (36, 40)]
    for n, (lo, hi) in enumerate(phases, 1):
        billing, tokens = [], []
        for h in range(lo, hi):
            billing.append(focus_row(h, "200.00" if h == 32 else "10.00"))
            if h == 20:
                billing.append(focus_row(h, "5000.00", "Tax", 1))
            if h != 32:
                tokens.append(otel(h, 30, "search", "search-api", "openai",
                                   "gpt-4o", 200000, 50000,
                                   "req-search-%04d" % h))
            if h == 12:
                tokens.append(otel(h, 31, "search", "search-api", "acme",
                                   "acme-llm-9000", 5000, 500,
                                   "req-acme-%04d" % h))
            if h == 30:
                tokens.append(otel(h, 30, "ml-research", "research-notebooks",
                                   "anthropic", "claude-sonnet-4-20250514",
                                   1000000, 200000, "req-ml-%04d" % h))
        # FOCUS amounts are JSON numbers in the messages.
        for row in billing:
            row["BilledCost"] = float(row["BilledCost"])
            row["EffectiveCost"] = row["BilledCost"]
        with open(os.path.join(HERE, "billing.%d.jsonl" % n), "w") as f:
            for row in billing:
                f.write(json.dumps(row, separators=(",", ":")) + "\n")
        with open(os.path.join(HERE, "tokens.%d.jsonl" % n), "w") as f:
            for row in tokens:
                f.write(json.dumps(row, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
