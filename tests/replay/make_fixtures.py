#!/usr/bin/python3
# Regenerates the token-usage fixtures of it_replay.sh (OpenAI usage objects
# as JSON lines), deterministically: three days of hourly traffic for two
# teams and two models, then one injected spike (team ml, gpt-4o, on
# 2025-03-03 14:00Z) and a few lines that must become dead letters.
import json
import random

rng = random.Random(20250301)
T0 = 1740787200  # 2025-03-01T00:00:00Z
SERIES = [("ml", "gpt-4o", 20000, 2000), ("ml", "gpt-4o-mini", 60000, 6000),
          ("search", "gpt-4o", 30000, 3000), ("search", "gpt-4o-mini", 90000, 9000)]
SPIKE_HOUR = 62


def event(n, ts, team, model, prompt, completion):
    return json.dumps({
        "id": "chatcmpl-%06d" % n, "object": "chat.completion", "created": ts,
        "model": model, "metadata": {"team": team, "app": "assistant"},
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }, separators=(",", ":"))


def hour_lines(h, n):
    out = []
    for team, model, p, c in SERIES:
        for k in range(3):
            ts = T0 + h * 3600 + k * 1200 + rng.randrange(600)
            out.append(event(n, ts, team, model,
                             int(p * rng.uniform(0.8, 1.2)),
                             int(c * rng.uniform(0.8, 1.2))))
            n += 1
    if h == SPIKE_HOUR:
        for k in range(8):
            out.append(event(n, T0 + h * 3600 + 300 + k * 60, "ml", "gpt-4o",
                             600000, 40000))
            n += 1
    out.sort(key=lambda line: json.loads(line)["created"])
    return out, n


n = 1
with open("tokens_a.jsonl", "w") as fa:
    for h in range(0, 48):
        lines, n = hour_lines(h, n)
        fa.write("\n".join(lines) + "\n")
with open("tokens_b.jsonl", "w") as fb:
    for h in range(48, 72):
        lines, n = hour_lines(h, n)
        if h == 50:
            lines.insert(1, "this line is not JSON")
            lines.insert(2, "")
            lines.insert(3, '{"model":"gpt-4o","usage":{"prompt_tokens":5}}')
        fb.write("\n".join(lines) + "\n")
