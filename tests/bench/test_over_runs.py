"""`make bench` takes the status call and the bare view in alternating runs and reports each load
over all its runs (`bench.run.over_runs`): throughput over the total time, latencies the worst."""

from bench.run import over_runs


def run(requests, seconds, p50, p95, p99, errors=0):
    return {"requests": requests, "ok_2xx": requests - errors, "errors": errors, "seconds": seconds,
            "rps": round(requests / seconds, 1), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}


def test_given_runs_at_different_speeds_then_throughput_is_requests_over_total_time_not_a_mean_of_rates():
    combined = over_runs([run(1000, 8.0, 1, 5, 10), run(3000, 10.0, 2, 4, 20, errors=3)])

    assert combined["requests"] == 4000 and combined["ok_2xx"] == 3997 and combined["errors"] == 3
    assert combined["rps"] == round(4000 / 18.0, 1)  # not (125 + 300) / 2


def test_given_runs_then_each_latency_is_the_worst_runs_and_every_run_is_kept():
    runs = [run(1000, 8.0, 1, 5, 10), run(3000, 10.0, 2, 4, 20)]
    combined = over_runs(runs)

    assert (combined["p50_ms"], combined["p95_ms"], combined["p99_ms"]) == (2, 5, 20)
    assert combined["runs"] == runs
