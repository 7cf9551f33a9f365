"""`make bench` notes how fast the machine is before each load (`bench.run.host_speed_ms`) and
writes it beside the figures: on a shared host the same code ran a load at a third of its speed
from one hour to the next."""

from bench.report import write_markdown


def load(rps=100.0):
    return {"requests": 800, "ok_2xx": 800, "errors": 0, "seconds": 8.0, "rps": rps, "p50_ms": 5.0, "p95_ms": 9.0,
            "p99_ms": 12.0}


def smallest_results() -> dict:
    """A run's figures with one entry of each kind, as `bench.run.main` writes them."""
    return {
        "started": "2026-12-06T22:23:18+00:00", "finished": "2026-12-06T22:31:00+00:00", "scale": 20000, "cores": 2,
        "postgres": "PostgreSQL 15", "python": "3.11.7", "duration_s": 8, "build_seconds": 3.0,
        "window": {"rows": [{"query": "no filter", "user": "provider", "status": 200, **load()}]},
        "unit_status": {"status_call": load(2000.0), "bare_view": load(2600.0), "ratio": 0.77},
        "redemption": {"distinct_codes": load(290.0), "shared_code": load(), "redeemed_per_second": 290.0,
                       "shared_code_successes": 1},
        "export": {"runs": [{"export": "all codes", "rows": 20000, "seconds": 0.2, "rows_per_second": 100000,
                             "worker_peak_rss_mb": 88.0}]},
        "expiry_job": {"made_due": "2,000 codes due", "expired": 2000, "units_changed": 1000, "audit_rows": 3000,
                       "seconds": 0.2, "codes_per_second": 10000},
        "batch_generate": {"generated": 2000, "seconds": 0.2},
    }


def test_given_a_runs_host_speeds_then_the_report_lists_each_moment_in_order(tmp_path):
    results = {**smallest_results(), "host_speed_ms": {"before the window": 53.0, "before redemption": 77.5}}
    doc = tmp_path / "BENCHMARKS.md"

    write_markdown(results, doc)

    line = next(line for line in doc.read_text().splitlines() if line.startswith("- Host speed"))
    assert line.index("before the window 53.0") < line.index("before redemption 77.5")
