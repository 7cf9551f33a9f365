"""The text of a code (DOMAIN.md "Code text"): random, typable, self-checking."""

import pytest

from codes import text as code_text

SAMPLE = [code_text.generate() for _ in range(60)]


def test_generated_codes_are_unique_across_a_hundred_thousand():
    codes = [code_text.generate() for _ in range(100_000)]
    assert len(set(codes)) == len(codes)


def test_a_code_carries_at_least_80_random_bits_in_crockford_base32_plus_one_check_character():
    assert code_text.BODY_LENGTH * 5 >= 80
    assert len(code_text.ALPHABET) == 32 and not set("ILOU") & set(code_text.ALPHABET)
    for code in SAMPLE:
        assert len(code) == code_text.LENGTH == code_text.BODY_LENGTH + 1
        assert set(code) <= set(code_text.ALPHABET)
        assert code_text.is_well_formed(code)


def test_every_character_of_the_alphabet_appears_in_every_position():
    codes = [code_text.generate() for _ in range(3000)]
    for position in range(code_text.BODY_LENGTH):
        assert {c[position] for c in codes} == set(code_text.ALPHABET), position


def test_a_code_is_shown_in_groups_of_five():
    code = "7KQ2M9XH4T0PZ8RWD3NCQ"
    assert code_text.display(code) == "7KQ2M-9XH4T-0PZ8R-WD3NC-Q"


@pytest.mark.parametrize(
    "typed",
    [
        "7kq2m-9xh4t-0pz8r-wd3nc-q",
        " 7KQ2M 9XH4T 0PZ8R WD3NC Q ",
        "7KQ2M—9XH4T".replace("—", "-") + "-0PZ8R-WD3NC-Q",
        "7KQ2M_9XH4T.0PZ8R-WD3NC-Q",
        "7kq2m9xh4tOpz8rwd3ncq",  # letter O for zero
        "7KQ2M-9XH4T-oPZ8R-WD3NC-Q",
    ],
)
def test_normalize_accepts_what_people_type(typed):
    assert code_text.normalize(typed) == "7KQ2M9XH4T0PZ8RWD3NCQ"


def test_normalize_reads_i_and_l_as_one_and_o_as_zero():
    assert code_text.normalize("iIlLoO") == "111100"


def test_normalize_of_nothing_is_empty():
    assert code_text.normalize("") == code_text.normalize(None) == ""


def test_a_code_typed_in_any_accepted_way_is_well_formed_again():
    for code in SAMPLE:
        typed = code_text.display(code).lower().replace("0", "o").replace("1", "l")
        assert code_text.normalize(typed) == code


def test_every_single_character_typo_is_caught_by_the_check_character():
    for code in SAMPLE:
        for position in range(len(code)):
            for wrong in code_text.ALPHABET:
                if wrong == code[position]:
                    continue
                typo = code[:position] + wrong + code[position + 1 :]
                assert not code_text.is_well_formed(typo), (code, position, wrong)
                assert code_text.looks_like_a_code(typo)  # so the page can say "mistyped"


def test_every_swap_of_two_neighbours_is_caught_except_the_documented_0_z_pair():
    missed = set()
    with_0z = "0Z" + code_text.generate()[2 : code_text.BODY_LENGTH]
    with_0z += code_text.luhn.calc_check_digit(with_0z, code_text.ALPHABET)
    for code in [*SAMPLE, with_0z]:
        assert code_text.is_well_formed(code)
        for position in range(len(code) - 1):
            a, b = code[position], code[position + 1]
            if a == b:
                continue
            swapped = code[:position] + b + a + code[position + 2 :]
            if code_text.is_well_formed(swapped):
                missed.add(frozenset((a, b)))
    assert missed == {frozenset("0Z")}


def test_the_0_z_swap_is_the_one_blind_spot_of_luhn_mod_32():
    body = "0Z" + "7KQ2M9XH4T0PZ8RWD3"
    code = body + code_text.luhn.calc_check_digit(body, code_text.ALPHABET)
    assert code_text.is_well_formed(code)
    assert code_text.is_well_formed("Z0" + code[2:])  # documented in codes/text.py


@pytest.mark.parametrize("junk", ["", "HELLO", "7KQ2M9XH4T0PZ8RWD3NC", "7KQ2M9XH4T0PZ8RWD3NCQQ", "7KQ2M9XH4T0PZ8RWD3NCU"])
def test_input_of_the_wrong_length_or_alphabet_is_not_well_formed(junk):
    assert not code_text.is_well_formed(junk)


def test_the_check_character_is_python_stdnums_luhn_mod_32():
    """`generate` computes the check character itself (the hot loop of batch generation); it
    must be exactly python-stdnum's, which `is_well_formed` keeps using."""
    for _ in range(20_000):
        code = code_text.generate()
        assert code[-1] == code_text.luhn.calc_check_digit(code[:-1], code_text.ALPHABET)
        assert code_text.is_well_formed(code)
