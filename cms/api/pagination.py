"""Cursor pagination: stable pages over tables that change while an integrator reads them, with
no COUNT(*) over millions of rows. A bad cursor is a validation error, not a 404."""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    """Newest first (by primary key). Subclasses name another unique ordering."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = _("Invalid cursor: use the next or previous link of a page.")

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid")


class PathCursor(Cursor):
    """Accounts in tree order (the materialised path is unique)."""

    ordering = "path"
