"""docs/BENCHMARKS.md from a run's figures: every figure, met or not, beside its target."""

from pathlib import Path

#: The floor: once the design meets it, performance work stops and the product grows.
TARGETS = {
    "window_p95_ms": 150,
    "status_ratio": 0.4,
    "status_p99_ms": 30,
    "redeem_per_s": 100,
    "export_rows_per_s": 50_000,
    "export_peak_mb": 200,
    "expiry_codes_per_s": 5_000,
    "batch_seconds": 10,
}


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _host_speed_line(speeds: dict) -> str:
    moments = ", ".join(f"{moment} {ms}" for moment, ms in speeds.items())
    return (f"- Host speed, ms of CPU for a fixed Python loop (lower is faster; `bench.run.host_speed_ms`): {moments}. "
            "The figures of a load follow the speed of the moment, not only the code.")


def _headline(results: dict) -> dict[str, str]:
    """The figures the floor is about, as text, for a side-by-side table."""
    rows = [r for r in results["window"]["rows"] if r["user"] != "stock admin"]
    s, rd, e, b = results["unit_status"], results["redemption"], results["expiry_job"], results["batch_generate"]
    big = results["export"]["runs"][-1] if results["export"]["runs"] else None
    return {
        "Codes window, worst p95 (provider and sub-reseller)": f"{max(r['p95_ms'] for r in rows)} ms",
        "Unit-status call / bare view; its p99": f"{s['ratio']}; {s['status_call']['p99_ms']} ms",
        "Redemptions per second (shared code: successes)": f"{rd['redeemed_per_second']} ({rd['shared_code_successes']})",
        "CSV export of every code: rows/s, worker peak": f"{big['rows_per_second']:,}, {big['worker_peak_rss_mb']} MB" if big else "",
        "Expiry job, codes/s": f"{e['codes_per_second']:,}",
        f"Batch of {b['generated']:,} codes, seconds (by the worker; in one process)": (
            f"{b['seconds']}; {b['in_one_process_seconds']}" if "in_one_process_seconds" in b else f"in one process: {b['seconds']}"
        ),
    }


def _comparison(before: dict, after: dict) -> list[str]:
    lines = ["## Before and after, on the same machine", "",
             f"Before: the run of {before['started']} (BENCH_BEFORE); after: this run.", "",
             "| figure | before | after |", "|---|---|---|"]
    old, new = _headline(before), _headline(after)
    for label, value in new.items():
        lines.append(f"| {label} | {old.get(label, '')} | {value} |")
    return [*lines, ""]


def write_markdown(results: dict, path: Path, before: dict | None = None) -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (see README). Load from wrk in its own process against gunicorn on 127.0.0.1; "
        "every figure is reported as measured, met or not.",
        "",
        f"- Run: {results['started']} → {results['finished']}",
        f"- Scale: **{results['scale']:,} codes**, {results['scale'] // 10:,} units, 50 resellers three levels deep",
        f"- Machine: {results['cores']} cores; {results['postgres']}; Python {results['python']}",
        f"- Load runs: {results['duration_s']} s each; data set built in {results['build_seconds']} s",
        *([f"- Server: {results['server']}"] if "server" in results else []),
        *([_host_speed_line(results["host_speed_ms"])] if results.get("host_speed_ms") else []),
        "",
        "## 1–2. Codes window, first page (4 connections), beside the stock admin changelist",
        "",
        f"| query | user | HTTP | p50 ms | p95 ms | p99 ms | req/s | p95 target < {TARGETS['window_p95_ms']} ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = results["window"]["rows"]
    for r in rows:
        target = _mark(r["p95_ms"] < TARGETS["window_p95_ms"]) if r["user"] != "stock admin" else ""
        lines.append(
            f"| {r['query']} | {r['user']} | {r['status']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['rps']} | {target} |"
        )
    lines += ["", "Our window against the stock admin changelist on the same query (provider user vs superuser, "
              "p50 latency ratio; reported, not a target):", "",
              "| query | window p50 ms | admin p50 ms | admin / window |", "|---|---|---|---|"]
    by_key = {(r["query"], r["user"]): r for r in rows}
    for (query, user), admin in by_key.items():
        if user != "stock admin":
            continue
        ours = by_key.get((query, "provider"))
        if ours and ours["p50_ms"]:
            ratio = admin["p50_ms"] / ours["p50_ms"]
            lines.append(f"| {query} | {ours['p50_ms']} | {admin['p50_ms']} | {ratio:.1f}× |")
    s = results["unit_status"]
    lines += [
        "",
        "## 3. Unit status call under 16 concurrent clients",
        "",
        *([f"The status call and the bare view took turns, {s['rounds']} runs each; req/s is over all of a "
           "load's runs, latencies are its worst run's.", ""] if "rounds" in s else []),
        "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
        f"| GET /api/v1/units/{{hardware id}}/ | {s['status_call']['rps']} | {s['status_call']['p50_ms']} | "
        f"{s['status_call']['p95_ms']} | {s['status_call']['p99_ms']} | {s['status_call']['errors']} |",
        *([f"| the same, first pass (cold: each unit's answer read from the database) | {s['cold_pass']['rps']} | "
           f"{s['cold_pass']['p50_ms']} | {s['cold_pass']['p95_ms']} | {s['cold_pass']['p99_ms']} | "
           f"{s['cold_pass']['errors']} |"] if "cold_pass" in s else []),
        f"| bare Django JSON view | {s['bare_view']['rps']} | {s['bare_view']['p50_ms']} | {s['bare_view']['p95_ms']} | "
        f"{s['bare_view']['p99_ms']} | {s['bare_view']['errors']} |",
        "",
        f"Ratio status call / bare view: **{s['ratio']}** (target ≥ {TARGETS['status_ratio']}: "
        f"{_mark(s['ratio'] is not None and s['ratio'] >= TARGETS['status_ratio'])}); p99 {s['status_call']['p99_ms']} ms "
        f"(target < {TARGETS['status_p99_ms']} ms: {_mark(s['status_call']['p99_ms'] < TARGETS['status_p99_ms'])}).",
    ]
    rd = results["redemption"]
    lines += [
        "",
        "## 4. Redemption through the API, 16 concurrent clients",
        "",
        "| run | requests | successes | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        f"| distinct codes | {rd['distinct_codes']['requests']} | {rd['distinct_codes']['ok_2xx']} | "
        f"{rd['distinct_codes']['rps']} | {rd['distinct_codes']['p50_ms']} | {rd['distinct_codes']['p95_ms']} | "
        f"{rd['distinct_codes']['p99_ms']} |",
        f"| one shared code | {rd['shared_code']['requests']} | {rd['shared_code']['ok_2xx']} | {rd['shared_code']['rps']} | "
        f"{rd['shared_code']['p50_ms']} | {rd['shared_code']['p95_ms']} | {rd['shared_code']['p99_ms']} |",
        "",
        f"Successful redemptions per second: **{rd['redeemed_per_second']}** (target ≥ {TARGETS['redeem_per_s']}: "
        f"{_mark(rd['redeemed_per_second'] >= TARGETS['redeem_per_s'])}). Shared code: **{rd['shared_code_successes']}** success "
        f"(must be exactly 1: {_mark(rd['shared_code_successes'] == 1)}).",
    ]
    lines += ["", "## 5. CSV export (one gunicorn worker, fresh for each size)", "",
              "| export | rows | seconds | rows/s | worker peak RSS MB |", "|---|---|---|---|---|"]
    for r in results["export"]["runs"]:
        lines.append(f"| {r['export']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_second']:,} | {r['worker_peak_rss_mb']} |")
    runs = results["export"]["runs"]
    if runs:
        big = runs[-1]
        lines += ["", f"Rows per second (all codes): {_mark(big['rows_per_second'] >= TARGETS['export_rows_per_s'])} "
                  f"(target ≥ {TARGETS['export_rows_per_s']:,}); peak memory: {_mark(big['worker_peak_rss_mb'] < TARGETS['export_peak_mb'])} "
                  f"(target < {TARGETS['export_peak_mb']} MB, flat as the row count grows: compare the two rows)."]
    e = results["expiry_job"]
    b = results["batch_generate"]
    lines += [
        "",
        "## 6–7. Background work",
        "",
        "The expiry job in this process, as one partition of the minute's task runs it; the batch as "
        "the product makes one this large: sent to a Celery worker of two processes, timed until it is "
        "ready (in one process: " + (f"{b['in_one_process_seconds']} s" if "in_one_process_seconds" in b else "not measured") + ").",
        "",
        "| job | amount | seconds | rate | target |",
        "|---|---|---|---|---|",
        f"| `codes_expire_due` ({e['made_due']}) | {e['expired']:,} codes, {e['units_changed']:,} units, "
        f"{e['audit_rows']:,} audit rows | {e['seconds']} | {e['codes_per_second']:,} codes/s | "
        f"≥ {TARGETS['expiry_codes_per_s']:,}/s: {_mark(e['codes_per_second'] >= TARGETS['expiry_codes_per_s'])} |",
        f"| `batch_generate` | {b['generated']:,} codes | {b['seconds']} | {round(b['generated'] / b['seconds']) if b['seconds'] else 0:,} codes/s | "
        f"< {TARGETS['batch_seconds']} s: {_mark(b['seconds'] < TARGETS['batch_seconds'])} |",
        "",
    ]
    if before:
        lines += _comparison(before, results)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
