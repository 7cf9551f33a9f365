"""The generic window views the Codes window is declared with: bulk buttons whose page does not
exist are left out (the page still renders), and the table never takes its page size from the
request unchecked."""

from django.test import RequestFactory
from django.urls import resolve

from cms.web.views import PAGE_SIZES, BulkAction
from codes.views import SEND, CodeListView
from tests.ui.helpers import bulk_buttons


class GhostActionList(CodeListView):
    bulk_actions = [*CodeListView.bulk_actions, BulkAction("Ghost", "ghost:nothing")]


def test_given_a_bulk_action_whose_url_does_not_exist_then_it_has_no_url():
    assert BulkAction("Ghost", "ghost:nothing").url is None
    assert SEND.url == "/codes/send/"


def test_given_a_bulk_action_whose_page_does_not_exist_yet_then_the_list_renders_without_its_button(window):
    request = RequestFactory().get("/codes/")
    request.resolver_match = resolve("/codes/")
    request.user = window.network.provider_admin
    response = GhostActionList.as_view()(request)
    response.render()
    assert response.status_code == 200
    buttons = bulk_buttons(response)
    assert "bulk-ghostnothing" not in buttons and "bulk-codesbulk_share" in buttons


def test_given_the_page_sizes_then_none_is_above_250():
    assert max(PAGE_SIZES) == 250
