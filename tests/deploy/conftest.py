"""A Keyline deployed as docs/DEPLOY.md says, on the test run's PostgreSQL server: an owner role
that owns the database and runs `migrate`, a runtime role that web and worker processes connect
as, an older Keyline upgraded to this one. Built once for the tests that need it (PostgreSQL only),
then dropped with its roles."""

import json
from dataclasses import dataclass

import pytest

from .cluster import Cluster, Role

#: The earlier Keyline the deployment starts from: the audit log and its trigger exist, and most of
#: what followed (the use-by instant, disabled branches, the code text's collation, reservations,
#: sessions and sign-in lock-outs) is still to come.
EARLIER = ("audit", "0003_append_only_trigger")

#: Installed by the owner at the earlier state, with rows written through the models as they were
#: then; the runtime role granted; then upgraded in the order docs/DEPLOY.md gives. Granting before
#: the first migrate is tried too, and must be refused.
INSTALL_AND_UPGRADE = """
import json
from datetime import date, datetime, UTC
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from codes import text

earlier, runtime = {earlier!r}, {runtime!r}
try:
    call_command("db_roles", "--runtime", runtime, "--apply")
    refused_before_migrate = None
except CommandError as refusal:
    refused_before_migrate = str(refusal)

call_command("migrate", *earlier, verbosity=0)
apps = MigrationLoader(connection).project_state(earlier).apps
Account, Batch, Code = (apps.get_model(*m) for m in (("cms", "Account"), ("codes", "Batch"), ("codes", "Code")))
Unit, Event = apps.get_model("units", "Unit"), apps.get_model("audit", "Event")
provider = Account.objects.create(path="0001", depth=1, numchild=1, name="Old Provider", kind="provider",
                                  time_zone="Europe/Paris")
reseller = Account.objects.create(path="00010001", depth=2, numchild=1, name="Old Reseller", kind="reseller",
                                  is_active=False)
customer = Account.objects.create(path="000100010001", depth=3, name="Old Customer", kind="customer")
batch = Batch.objects.create(provider=provider, quantity=2, generated_count=2, period_days=30, unit_price="10.00",
                             currency="EUR", use_by=date(2027, 3, 31), status="ready")
for _ in range(2):
    Code.objects.create(text=text.generate(), period_days=30, use_by=date(2027, 3, 31), batch=batch,
                        holder=provider, provider=provider, status="available")
Unit.objects.create(name="Old Truck", hardware_id="350000000000001", owner=customer, provider=provider)
Event.objects.create(occurred_at=datetime(2026, 1, 5, tzinfo=UTC), action="generated", actor_label="system",
                     batch=batch, details={{"quantity": 2}})
call_command("db_roles", "--runtime", runtime, "--apply")

call_command("migrate", "--noinput", verbosity=0)
call_command("db_roles", "--runtime", runtime, "--apply")
print(json.dumps({{"refused_before_migrate": refused_before_migrate}}))
"""


@dataclass(frozen=True)
class Deployment:
    cluster: Cluster
    database: str
    owner: Role
    runtime: Role
    refused_before_migrate: str | None


@pytest.fixture(scope="session")
def deployment():
    cluster = Cluster.of_the_test_run()
    owner, runtime = Role.new("keyline_owner"), Role.new("keyline_runtime")
    cluster.create_role(owner)
    cluster.create_role(runtime)
    try:
        with cluster.database("keyline_deploy", owner=owner) as database:
            script = INSTALL_AND_UPGRADE.format(earlier=EARLIER, runtime=runtime.name)
            outcome = json.loads(cluster.script(database, script, role=owner).strip().splitlines()[-1])
            yield Deployment(cluster, database, owner, runtime, outcome["refused_before_migrate"])
    finally:
        cluster.drop_role(runtime)
        cluster.drop_role(owner)


#: A day of the app's work, done as the runtime role: accounts, a user who signs in and opens the
#: Codes window, a batch, a code shared, a code attached to a unit, the expiry job.
RUNTIME_WORK = """
import json
from django.core.management import call_command
from django.test import Client
from audit.models import Event
from codes.services import code_attach, code_share
from tests import factories

last_before = Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
provider = factories.provider("Runtime Telematics")
reseller = factories.reseller(provider, "Runtime Reseller")
customer = factories.customer(reseller, "Runtime Customer")
admin = factories.user(provider, "admin", "runtime-admin")
first, second = factories.codes(admin, quantity=2)
code_share(code=first, to_account=reseller, actor=admin)
code_attach(code=second, unit=factories.unit(customer, actor=admin), actor=admin)
call_command("expire_codes", verbosity=0)
client = Client()
signed_in = client.post("/login/", {"username": "runtime-admin", "password": factories.PASSWORD})
codes_window = client.get("/codes/")
first.refresh_from_db()
print(json.dumps({
    "holder": first.holder_id, "reseller": reseller.pk,
    "sign_in": signed_in.status_code, "codes_window": codes_window.status_code,
    "actions": sorted(set(Event.objects.filter(pk__gt=last_before).values_list("action", flat=True))),
}))
"""


@pytest.fixture(scope="session")
def runtime_work(deployment) -> dict:
    output = deployment.cluster.script(deployment.database, RUNTIME_WORK, role=deployment.runtime)
    return json.loads(output.strip().splitlines()[-1])
