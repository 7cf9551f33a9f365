"""An account's label in a choice list: its name, indented by its depth in the reseller tree, so a
list ordered by path reads as the tree ("and accounts below" then makes sense at a glance).

One function for every such list (the accounts, users, units, Codes window and Report filters,
and the account, user and share forms). It takes the name and depth, not an `Account`, so the
Codes window's holder filter can label plain `values_list` rows without building model instances.
"""

#: One level of indent. An em dash, not non-breaking spaces: it reads the same in a `<select>`,
#: in plain text and in every font, and survives copying and stripping.
INDENT = "— "


def indented_account_label(name: str, depth: int, *, top: int = 1, kind_label: str | None = None) -> str:
    """`name` after one `INDENT` per level of `depth` below `top` (none at `top` or above), and
    ` (kind_label)` after it when given.

    `top` is the depth shown flush left: 1 (the providers) for the whole tree, the user's own
    account's depth for a list that starts at their account, one more for one that starts just
    below it."""
    label = f"{INDENT * max(depth - top, 0)}{name}"
    return f"{label} ({kind_label})" if kind_label else label
