"""Attach from CSV: every line checked first; one bad line refuses the file and nothing changes."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from codes.cover import unit_is_active
from codes.models import Code
from codes.services import code_attach, code_share, codes_send_by_email
from tests import factories
from units.forms import CSV_MAX_BYTES, CSV_MAX_LINES, parse_attach_csv

URL = reverse("units:attach_csv")


def upload(client, text: str, name="codes.csv"):
    return client.post(URL, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def confirm_shown(client, response):
    pairs = [f"{unit.pk}:{code.pk}" for _line, unit, code in response.context["pairs"]]
    lines = [str(line) for line, _unit, _code in response.context["pairs"]]
    return client.post(URL, {"pair": pairs, "line": lines, "_confirm": "1"})


def messy(code) -> str:
    """How people paste codes: lower case, spaces, dashes in odd places."""
    text = code.display_text.lower()
    return f"  {text[:7]} {text[7:]}  "


def test_given_a_csv_with_header_spaces_and_dashes_when_checked_and_confirmed_then_codes_are_attached(
    client, network, fleet
):
    first, second = factories.codes(network.provider_admin, quantity=2, period_days=90)
    content = (
        "hardware id;code\n"
        f" {fleet.harvest_trailer.hardware_id} ;{messy(first)}\n"
        "\n"
        f"{fleet.north_box.hardware_id.lower()};{second.text}\n"
    )
    client.force_login(network.provider_operator)
    response = upload(client, content)
    assert response.status_code == 200, response.content.decode()[-2000:]
    assert [(line, unit.pk, code.pk) for line, unit, code in response.context["pairs"]] == [
        (2, fleet.harvest_trailer.pk, first.pk),
        (4, fleet.north_box.pk, second.pk),
    ]
    assert not unit_is_active(fleet.harvest_trailer)  # nothing yet: a confirmation first
    response = confirm_shown(client, response)
    assert response.status_code == 302
    assert Code.objects.get(pk=first.pk).unit_id == fleet.harvest_trailer.pk
    assert Code.objects.get(pk=second.pk).unit_id == fleet.north_box.pk
    assert unit_is_active(fleet.harvest_trailer) and unit_is_active(fleet.north_box)


def test_given_bad_lines_when_checked_then_each_is_reported_by_line_and_nothing_changes(client, network, fleet):
    good, used = factories.codes(network.provider_admin, quantity=2, period_days=90)
    code_attach(code=used, unit=fleet.north_box, actor=network.provider_admin)
    mistyped = good.text[:-1] + ("0" if good.text[-1] != "0" else "1")
    content = "\n".join(
        [
            f"{fleet.harvest_trailer.hardware_id},{good.text}",  # 1: fine
            f"{fleet.harvest_trailer.hardware_id}",  # 2: one value
            f"999999999999999,{good.text}",  # 3: unknown unit
            f"{fleet.rival_unit.hardware_id},{good.text}",  # 4: another provider's unit
            f"{fleet.harvest_trailer.hardware_id},{mistyped}",  # 5: mistyped
            f"{fleet.harvest_trailer.hardware_id},{good.text}",  # 6: repeated
            f"{fleet.harvest_trailer.hardware_id},{used.text}",  # 7: already on a unit
        ]
    )
    client.force_login(network.provider_operator)
    response = upload(client, content)
    assert response.status_code == 400
    errors = {e.number: e.reason for e in response.context["errors"]}
    assert set(errors) == {2, 3, 4, 5, 6, 7}
    assert "two values" in errors[2]
    assert "999999999999999" in errors[3] and "hardware id" in errors[4]
    assert "mistyped" in errors[5] and "line 1" in errors[6] and "running" in errors[7]
    html = response.content.decode()
    assert 'data-line="5"' in html and "nothing was changed" in html
    assert Code.objects.get(pk=good.pk).unit_id is None


def test_given_a_code_outside_the_units_branch_when_confirmed_then_the_service_refuses_with_the_line(
    client, network, fleet
):
    (code,) = factories.codes(network.provider_admin, quantity=1, period_days=90)
    code_share(code=code, to_account=network.south, actor=network.provider_admin)
    client.force_login(network.provider_operator)
    response = upload(client, f"{fleet.harvest_trailer.hardware_id},{code.text}\n")
    assert response.status_code == 200
    response = confirm_shown(client, response)
    assert response.status_code == 409
    errors = response.context["errors"]
    assert [e.number for e in errors] == [1]
    assert "outside the part of the network" in errors[0].reason
    assert Code.objects.get(pk=code.pk).unit_id is None


def test_given_a_file_too_large_when_uploaded_then_it_is_refused_unread(client, network, fleet):
    client.force_login(network.provider_operator)
    response = upload(client, "x" * (CSV_MAX_BYTES + 1))
    assert response.status_code == 400
    assert "too large" in str(response.context["form"].errors["file"])


def test_given_not_text_when_uploaded_then_it_is_refused(client, network, fleet):
    client.force_login(network.provider_operator)
    response = client.post(URL, {"file": SimpleUploadedFile("codes.csv", b"\xff\xfe\x00bad", content_type="text/csv")})
    assert response.status_code == 400


def test_given_a_viewer_or_anonymous_when_opening_then_refused(client, network, fleet):
    assert client.get(URL).status_code == 302
    client.force_login(network.provider_viewer)
    assert client.get(URL).status_code == 403
    client.force_login(network.provider_operator)
    assert client.get(URL).status_code == 200


def test_given_pairs_naming_another_providers_unit_when_confirmed_then_404(client, network, fleet):
    (code,) = factories.codes(network.provider_admin, quantity=1, period_days=90)
    client.force_login(network.provider_operator)
    response = client.post(URL, {"pair": [f"{fleet.rival_unit.pk}:{code.pk}"], "line": ["1"], "_confirm": "1"})
    assert response.status_code == 404


def test_parsing_reads_commas_tabs_and_semicolons_and_skips_a_header():
    lines, errors = parse_attach_csv("Hardware ID\tCode\nabc123\tAAAA-BBBB\n")
    assert errors == [] and [(line.number, line.hardware_id, line.code_text) for line in lines] == [(2, "abc123", "AAAA-BBBB")]
    lines, errors = parse_attach_csv("1,2,3\n35,CODE\n")
    assert [e.number for e in errors] == [1] and [line.number for line in lines] == [2]


def test_given_too_many_lines_when_uploaded_then_the_file_is_refused(client, network, fleet):
    client.force_login(network.provider_operator)
    content = "\n".join(f"35{i:013d},AAAAA-BBBBB-CCCCC-DDDDD-E" for i in range(CSV_MAX_LINES + 1))
    response = upload(client, content)
    assert response.status_code == 400
    assert "At most" in str(response.context["form"].errors["file"])


def test_given_a_code_emailed_to_a_customer_when_named_in_a_csv_then_its_line_says_it_is_kept_for_them(
    client, network, fleet
):
    (code,) = factories.codes(network.provider_admin, quantity=1, period_days=90)
    codes_send_by_email(codes=[code], actor=network.provider_admin, recipient="driver@harvest.example")
    client.force_login(network.provider_operator)

    response = upload(client, f"{fleet.harvest_trailer.hardware_id},{code.display_text}\n")

    assert response.status_code == 400
    [error] = response.context["errors"]
    assert error.number == 1 and error.reason.startswith("Reserved for driver@harvest.example since ")
    assert error.reason.endswith(": cancel the reservation first.")
    assert Code.objects.get(pk=code.pk).unit_id is None
