"""The Codes window's SQL under EXPLAIN (ANALYZE, BUFFERS), for a data set `make bench` built
(run it with BENCH_BUILD_ONLY=1 to keep one): every first page the benchmark measures, as the
provider user and as the sub-reseller user, captured through Django's test client.

    DATABASE_URL=postgres://.../keyline_bench .venv/bin/python -m bench.explain [FILTER] [--plans]

Prints, per page, each query with its execution time, the rows its plan read and threw away,
and the buffers it touched; with --plans, the plans of the queries over 20 ms (PLAN_MS=1: over
1 ms). FILTER keeps the pages whose "user:label" contains it (e.g. "sub:", ":q"). Timings are
one run each: read the rows and buffers, not the milliseconds, on a busy machine.
"""

import os
import re
import sys
from datetime import UTC, datetime, timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cms.models import Account, User
    from codes.models import Batch, Code, CodeState

    settings.ALLOWED_HOSTS = ["*"]
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    only = args[0] if args else ""
    show_plans = "--plans" in sys.argv
    users = {"provider": User.objects.get(username="bench-provider"), "sub": User.objects.get(username="bench-sub")}
    today = datetime.now(UTC).date()
    batch = Batch.objects.filter(period_days=90).order_by("pk").first()

    def pages(who):
        holder = Account.objects.get(name="Reseller 0") if who == "provider" else users[who].account
        running = Code.objects.filter(holder__path__startswith=holder.path, status=CodeState.RUNNING).order_by("pk")
        hardware_id, text = running.values_list("unit__hardware_id", "text").first()
        return [
            ("no filter", ""), ("running", "state=running"), ("expired", "state=expired"),
            ("holder", f"holder={holder.pk}&holder_below=on"), ("unit", f"unit={hardware_id}"),
            ("period", "period_days=90"),
            ("activated", f"activated_after={today - timedelta(days=30)}&activated_before={today}"),
            ("expires", f"expires_after={today}&expires_before={today + timedelta(days=30)}"),
            ("batch", f"batch={batch.pk}"), ("q", f"q={text[:6]}"), ("sort", "state=running&sort=expires_at"),
        ]

    for who, user in users.items():
        client = Client()
        client.force_login(user)
        for label, query in pages(who):
            name = f"{who}:{label}"
            if only and only not in name:
                continue
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"/codes/?{query}")
            rows = len(re.findall(rb'<tr[^>]*data-state="[a-z]+"', response.content))
            print(f"=== {name}  HTTP {response.status_code}, {rows} rows shown, {len(captured.captured_queries)} queries")
            for item in captured.captured_queries:
                sql = item["sql"]
                if "django_session" in sql or not sql.startswith(("SELECT", "DECLARE")):
                    continue
                explained = re.sub(r"^DECLARE .*? FOR ", "", sql)
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + explained)
                    plan = [line for (line,) in cursor.fetchall()]
                text_plan = "\n".join(plan)
                ms = float(re.search(r"Execution Time: ([\d.]+)", text_plan).group(1))
                removed = sum(int(n) for n in re.findall(r"Rows Removed by (?:Join )?Filter: (\d+)", text_plan))
                buffers = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", text_plan)
                touched = int(buffers.group(1)) + int(buffers.group(2) or 0) if buffers else 0
                print(f"  {ms:8.1f} ms  removed {removed:>9,}  buffers {touched:>9,}  {explained[:110]}")
                if show_plans and ms > float(os.environ.get("PLAN_MS", "20")):
                    print("      " + "\n      ".join(plan))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main()
