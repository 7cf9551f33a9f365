"""The text of an activation code.

100 random bits from `secrets`, written as 20 Crockford base32 characters, plus one check
character computed with the Luhn mod-32 algorithm over the same alphabet (python-stdnum), so the
check character is always something a person can type. Shown in groups of five:
``7KQ2M-9XH4T-0PZ8R-WD3NC-Q``.

The check character catches every single-character typo and every swap of two neighbouring
characters except the pair 0/Z (Luhn's one blind spot: in base 10 it is 09/90).
"""

import re
import secrets

from stdnum import luhn

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
BODY_LENGTH = 20  # 20 x 5 bits = 100 random bits (DOMAIN.md asks for at least 80)
LENGTH = BODY_LENGTH + 1
GROUP = 5

# What people type instead of the canonical character.
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


#: Luhn's doubling in base 32, per digit value: the two "digits" of 2d (divmod by 32), summed.
_DOUBLED = tuple(sum(divmod(2 * value, len(ALPHABET))) for value in range(len(ALPHABET)))
_SHIFTS = tuple(range(0, 5 * BODY_LENGTH, 5))


def _check_character(values: list[int]) -> str:
    """python-stdnum's `luhn.calc_check_digit(body, ALPHABET)`, computed on the body's digit
    values (the tests compare the two): counted from the right once the check character is
    appended, the body's last digit is doubled, the one before it is not, and so on."""
    total = sum(values[-2::-2]) + sum(_DOUBLED[value] for value in values[::-2])
    return ALPHABET[-(total % len(ALPHABET))]


def generate() -> str:
    """A new random code in canonical form (no dashes), check character included."""
    bits = secrets.randbits(5 * BODY_LENGTH)  # one call, then 5 bits per character
    values = [(bits >> shift) & 31 for shift in _SHIFTS]
    return "".join([ALPHABET[value] for value in values]) + _check_character(values)


def normalize(typed: str) -> str:
    """Canonical form of what a person typed: upper case, no spaces or dashes, I/L read as 1
    and O as 0. The result is not necessarily a valid code; see `is_well_formed`."""
    return _SEPARATORS.sub("", typed or "").upper().translate(_LOOKALIKES)


def is_well_formed(canonical: str) -> bool:
    """True when the canonical text has the right length, alphabet and check character."""
    if len(canonical) != LENGTH or any(c not in ALPHABET for c in canonical):
        return False
    return luhn.is_valid(canonical, ALPHABET)


def looks_like_a_code(canonical: str) -> bool:
    """Right length and alphabet, whatever the check character says: used to tell a typo
    ("looks mistyped") from input that is not a code at all."""
    return len(canonical) == LENGTH and all(c in ALPHABET for c in canonical)


def display(canonical: str) -> str:
    """Grouped form for people: 7KQ2M-9XH4T-0PZ8R-WD3NC-Q."""
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))

