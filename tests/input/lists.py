"""The lists of the app, found in the URL resolver as the isolation walk finds every URL, and the
query parameters each one's FilterSet reads."""

from django.test import RequestFactory

from cms.web.views import ObjectListView
from tests.isolation.walker import url_patterns


def _view_class(callback):
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def list_patterns():
    """(name, is an API list, view class) of every list without URL arguments."""
    found = []
    for pattern in url_patterns():
        if pattern.arguments or pattern.name.startswith("bench"):
            continue
        view_class = _view_class(pattern.callback)
        if isinstance(view_class, type) and issubclass(view_class, ObjectListView):
            found.append((pattern.name, False, view_class))
        elif (getattr(pattern.callback, "actions", None) or {}).get("get") == "list":
            found.append((pattern.name, True, view_class))
    return found


def filter_parameters(view_class, user) -> list[str]:
    """The query parameters of the list's FilterSet, as its form reads them (a range's halves)."""
    filterset_class = getattr(view_class, "filterset_class", None)
    if filterset_class is None:
        return []
    request = RequestFactory().get("/")
    request.user = user
    view = view_class()
    view.setup(request)
    form = filterset_class(None, queryset=view.get_queryset(), request=request).form
    names = []
    for name, field in form.fields.items():
        widget = field.widget
        if hasattr(widget, "suffixes"):
            names += [widget.suffixed(name, suffix) for suffix in widget.suffixes]
        elif getattr(widget, "widgets_names", None):
            names += [f"{name}{suffix}" for suffix in widget.widgets_names]
        else:
            names.append(name)
    return names
