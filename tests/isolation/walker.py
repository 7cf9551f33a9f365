"""Walking every URL pattern of the app.

`url_patterns()` lists every pattern (recursively, with its namespaced name and the names of its
arguments). `FILL` says, for every pattern that takes arguments, which kind of object fills each
argument and with which attribute. A pattern with arguments that is missing from `FILL` makes
the walk fail: whoever adds a URL must say here how to reach a foreign object through it.
"""

import json
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

#: Patterns the walk leaves out, each for a stated reason.
SKIPPED = {
    "set_language": "django.conf.urls.i18n: sets a cookie, shows nothing",
    "api:schema": "the OpenAPI schema describes endpoints, never data",
    "api:docs": "Swagger UI page, static",
    "api:redoc": "ReDoc page, static",
    "bench_bare": "benchmark route, off unless KEYLINE_BENCH_ROUTES",
}
SKIPPED_NAMESPACES = {"admin"}  # Django admin: platform operators only (is_staff)

#: Pages anybody may open without signing in.
PUBLIC = {"login", "logout", "redeem:redeem", "redeem:done", "api:redeem", "api:?", "accounts:invitation"}

#: url name -> {argument: (kind, attribute)}. Kinds are the fields of `tests.isolation.world.ObjectSet`.
FILL = {
    "codes:detail": {"pk": ("code", "pk")},
    "batches:detail": {"pk": ("batch", "pk")},
    "batches:progress": {"pk": ("batch", "pk")},
    "batches:download": {"pk": ("batch", "pk")},
    "units:detail": {"pk": ("unit", "pk")},
    "notices:edit": {"pk": ("notice", "pk")},
    "notices:delete": {"pk": ("notice", "pk")},
    "accounts:edit": {"pk": ("account", "pk")},
    "accounts:move": {"pk": ("account", "pk")},
    "accounts:disable": {"pk": ("account", "pk")},
    "accounts:enable": {"pk": ("account", "pk")},
    "accounts:user_edit": {"pk": ("admin", "pk")},
    "accounts:user_password": {"pk": ("admin", "pk")},
    "profile:token_delete": {"pk": ("token", "pk")},
    "api:account-detail": {"pk": ("account", "pk")},
    "api:code-detail": {"code": ("code", "text")},
    "api:code-attach": {"code": ("code", "text")},
    "api:code-release": {"code": ("running", "text")},
    "api:code-revoke": {"code": ("code", "text")},
    "api:code-cancel-reservation": {"code": ("code", "text")},
    "api:batch-detail": {"pk": ("batch", "pk")},
    "api:unit-detail": {"hardware_id": ("unit", "hardware_id")},
    "api:event-detail": {"pk": ("event", "pk")},
    "report:detail": {"pk": ("event", "pk")},
    # A foreign user's invitation link with a guessed token.
    "accounts:invitation": {"uidb64": ("invitation", "uidb64"), "token": ("invitation", "token")},
}

#: Kinds a parent account sees below itself (the others belong to one account or one user only).
SEEN_FROM_ABOVE = {"code", "running", "unit", "account", "admin", "event"}

#: Query parameters that name objects, tried with foreign ids on every list.
ID_PARAMS = {
    "account": "account", "holder": "account", "owner": "account", "customer": "account", "parent": "account",
    "from_account": "account", "to_account": "account", "actor_account": "account", "account_id": "account",
    "holder_id": "account", "owner_id": "account", "unit": "unit", "unit_id": "unit", "batch": "batch",
    "batch_id": "batch", "code": "code", "code_id": "code", "actor": "admin", "user": "admin",
}


#: Which kind of foreign object fills a filter over which model.
KIND_OF_MODEL = {"Account": "account", "Unit": "unit", "Batch": "batch", "Code": "code", "User": "admin"}


def filter_params(callback) -> dict[str, str] | None:
    """The page's filters that name objects, and the kind of object each names: read from the
    view's FilterSet (a model choice filter over Account names accounts, and so on), plus the
    common names in ID_PARAMS that the FilterSet declares. None: the view has no FilterSet."""
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    filterset_class = getattr(view_class, "filterset_class", None)
    if filterset_class is None:
        return None
    found = {}
    for name, declared in filterset_class.base_filters.items():
        queryset = getattr(declared, "queryset", None) or declared.extra.get("queryset")
        model = getattr(getattr(declared, "model", None), "__name__", None)
        if queryset is not None and hasattr(queryset, "model"):
            model = queryset.model.__name__
        if model in KIND_OF_MODEL:
            found[name] = KIND_OF_MODEL[model]
        elif name in ID_PARAMS:
            found[name] = ID_PARAMS[name]
    for name, kind in ID_PARAMS.items():
        if name.endswith("_id") and name[:-3] in found:
            found[name] = kind
    return found


@dataclass(frozen=True)
class Pattern:
    name: str
    route: str
    arguments: tuple[str, ...]
    callback: object

    @property
    def is_api(self) -> bool:
        return self.name.startswith("api:")


def url_patterns() -> list[Pattern]:
    found: list[Pattern] = []

    def walk(patterns, prefix: str, namespace: str | None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                if inner in SKIPPED_NAMESPACES:
                    continue
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name or '?'}" if namespace else (entry.name or "?")
                arguments = tuple(entry.pattern.regex.groupindex)
                found.append(Pattern(name, prefix + str(entry.pattern), arguments, entry.callback))

    walk(get_resolver().url_patterns, "", None)
    return found


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


def leaked(response, secrets) -> list[str]:
    body = body_of(response)
    return [s for s in secrets if s and s in body]


def post(client, url, data, *, api: bool):
    if api:
        return client.post(url, data=json.dumps(data), content_type="application/json")
    return client.post(url, data)
