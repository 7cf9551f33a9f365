"""Sign-in backend: Django's ModelBackend, and an open session ends when the user's account is
disabled (a disabled user is already refused by ModelBackend). Signing in to a disabled account
is refused by `ActiveAccountAuthenticationForm`, which tells the person why.

Every signed-in request loads its user and the user's account (`get_user`). That is one
fixed-shape statement, so it is written once as SQL (`cms.fixed_sql`) instead of being built and
compiled by the ORM on each request: 0.33 ms instead of 1.2 ms per request in process, a
twentieth of a Codes window page (docs/BENCHMARKS-notes.md, eighth round). The instances are
loaded through `Model.from_db`, as a queryset would load them.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from . import fixed_sql
from .models import Account


class ActiveAccountBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_with_account(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        if user.account_id is not None and not user.account.is_active:
            return None
        return user


def user_with_account(user_id):
    """The user with this id and its account (already attached: reading `user.account` makes no
    query), or None: what `User.objects.select_related("account").get(pk=user_id)` gives."""
    user_model = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(_user_with_account_sql(connection.vendor), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    user, account_start = fixed_sql.load(user_model, row)
    account = None if row[account_start] is None else fixed_sql.load(Account, row, account_start)[0]
    user_model.account.field.set_cached_value(user, account)
    return user


@cache
def _user_with_account_sql(vendor: str) -> str:
    user_model = get_user_model()
    account_key = fixed_sql.quote(user_model._meta.get_field("account").column)
    return (
        f"SELECT {fixed_sql.columns(user_model, 'u')}, {fixed_sql.columns(Account, 'a')} "
        f"FROM {fixed_sql.table(user_model)} u LEFT OUTER JOIN {fixed_sql.table(Account)} a "
        f"ON a.{fixed_sql.quote(Account._meta.pk.column)} = u.{account_key} "
        f"WHERE u.{fixed_sql.quote(user_model._meta.pk.column)} = %s"
    )
