#!/usr/bin/env python3
"""Reads the summary line of `gmprun orders` (stdin or a file) and says in
plain words what happened: rate held, latency against the goal, pauses,
allocation latency, and whether every order was accounted for.
Used by scripts/run.sh; docs/ORDERS.md explains every field."""
import os
import sys

def fields(text):
    line = [l for l in text.splitlines() if l.startswith("summary workload=orders ")]
    if not line:
        return None
    out = {}
    for tok in line[-1].split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out

def num(f, k, default=0.0):
    try:
        return float(f.get(k, default))
    except ValueError:
        return default

def us(v):
    if v >= 1000:
        return "%.1f ms" % (v / 1000)
    return "%.1f µs" % v

def main():
    text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    f = fields(text)
    if f is None:
        print("No summary line from gmprun orders: it did not finish (see the messages above).")
        return 1
    asked, got = num(f, "rate_asked"), num(f, "rate_achieved")
    p50, p99, p999, mx = (num(f, k) for k in ("lat_p50_us", "lat_p99_us", "lat_p999_us", "lat_max_us"))
    print("What happened:")
    held = f.get("rate_held") == "true"
    print("  - Load: %d orders/s were asked for; %d/s went through the whole pipeline%s." %
          (asked, got, " — the rate was held" if held else " — the rate was NOT held (the pipeline fell behind)"))
    print("  - Latency, from the moment each order was due to its report reaching a subscriber:")
    print("    half within %s, 99 %% within %s, 99.9 %% within %s, the slowest %s." % (us(p50), us(p99), us(p999), us(mx)))
    goal_p99, goal_p999 = 10.0, 50.0
    met = p99 <= goal_p99 and p999 <= goal_p999
    print("    The goal on this 2-core machine is p99 ≤ %g µs and p99.9 ≤ %g µs: %s." %
          (goal_p99, goal_p999, "met" if met else "not met"))
    stages = [(k, num(f, "stage_%s_p99_us" % k)) for k in ("gen", "parse", "risk", "match", "publish")]
    worst = max(stages, key=lambda s: s[1])
    print("    Slowest stage at p99: %s (%s; 'gen' is the generator's own lateness)." % (worst[0], us(worst[1])))
    pauses = int(num(f, "stw_pauses"))
    if pauses == 0:
        print("  - Pauses: the runtime never stopped the world during the run.")
    else:
        print("  - Pauses: %d stop-the-world pauses, the longest %s." % (pauses, us(num(f, "stw_max_us"))))
    print("  - Memory: %.1f %% of short-lived allocations came from the per-P fast tier, %.1f %% of order/fill "
          "allocations from the txn tier's caches; sampled allocation latency p99 %s." %
          (100 * num(f, "pool_hit_fast"), 100 * num(f, "pool_hit_txn"), us(num(f, "alloc_p99_us"))))
    ok = f.get("check") == "true"
    print("  - Correctness: %s orders and %s cancels: %s filled, %s cancelled, %s resting, %s rejected "
          "(%s malformed, %s by risk or as unknown). %s" %
          (f.get("orders"), f.get("cancels"), f.get("filled"), f.get("cancelled"), f.get("resting"),
           f.get("rejected"), f.get("rejects_malformed"), f.get("rejects_business"),
           "Every order is accounted for and every book is consistent." if ok
           else "A CHECK FAILED (see 'orders: check failed' above)."))
    try:
        load = os.getloadavg()[0]
        cpus = os.cpu_count() or 1
        if load > cpus:
            print("  - This machine was busy (load %.1f on %d CPUs): latency here is worse than on an idle one." %
                  (load, cpus))
    except OSError:
        pass
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
