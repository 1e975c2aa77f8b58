"""The view kit (hiboo_connect.pages): a page or its fragment, always with `Vary: HX-Request`; a service's refusal on
the form field it names; confirm-then-act. Unit tests on the kit, then the pages that use it answering alike."""

import pytest
from django import forms
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from hiboo_connect import pages
from hiboo_connect.errors import InvalidInput, NotAllowed, NotFound, RuleConflict
from tests.factories import MachineFactory, SharingFactory, WorkspaceFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


def request(method="get", **headers):
    made = getattr(RequestFactory(), method)("/", **headers)
    made.htmx = HtmxDetails(made)
    return made


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [({}, False), (HTMX, True), (HISTORY_RESTORE, False)],
    ids=["plain", "htmx", "history-restore"],
)
def test_a_fragment_is_what_htmx_asks_for_except_a_history_restore(headers, fragment):
    assert pages.fragment_requested(request(**headers)) is fragment


@pytest.mark.parametrize(
    ("headers", "fragment", "rendered"),
    [
        ({}, "#results", "page.html"),
        (HTMX, "#results", "page.html#results"),
        (HISTORY_RESTORE, "#results", "page.html"),
        ({}, "other.html#row", "page.html"),
        (HTMX, "other.html#row", "other.html#row"),
    ],
)
def test_render_page_picks_the_page_or_the_fragment_and_always_varies_on_hx_request(
    monkeypatch, headers, fragment, rendered
):
    seen = []

    def fake_render(request, template, context=None, status=200):
        seen.append((template, status))
        return HttpResponse(status=status)

    monkeypatch.setattr(pages, "render", fake_render)
    response = pages.render_page(request(**headers), "page.html", {}, fragment=fragment, status=400)
    assert seen == [(rendered, 400)]
    assert response["Vary"] == "HX-Request"


class NameForm(forms.Form):
    name = forms.CharField()


def bound_form():
    form = NameForm({"name": "Depot"})
    assert form.is_valid()
    return form


def test_a_refusal_naming_a_field_of_the_form_is_shown_next_to_it():
    form = bound_form()
    with pages.refusal(form) as refused:
        raise InvalidInput("name_taken", "Taken.", field="name")
    assert refused
    assert refused.message == "Taken."
    assert refused.error.code == "name_taken"
    assert form.errors == {"name": ["Taken."]}
    assert not form.is_valid()


@pytest.mark.parametrize("field", [None, "not_a_field_of_this_form"])
def test_a_refusal_naming_no_field_of_the_form_is_shown_above_it(field):
    form = bound_form()
    with pages.refusal(form):
        raise RuleConflict("started", "Too late.", field=field)
    assert form.non_field_errors() == ["Too late."]


def test_nothing_refused_leaves_the_form_valid():
    form = bound_form()
    with pages.refusal(form) as refused:
        pass
    assert not refused
    assert refused.error is None
    assert refused.message == ""
    assert form.is_valid()


@pytest.mark.parametrize("error", [NotAllowed("forbidden", "No."), ValueError("a bug")])
def test_not_allowed_and_other_errors_go_up(error):
    form = bound_form()
    with pytest.raises(type(error)), pages.refusal(form):
        raise error
    assert form.is_valid()


def test_not_found_from_the_service_is_a_refusal_of_what_was_typed():
    # A service looking up what the form names (a machine id, say) answers NotFound: the form says so.
    with pages.refusal() as refused:
        raise NotFound("machine_not_found", "No such machine.", field="machines")
    assert refused.message == "No such machine."


def flow(**overrides):
    calls = []
    callbacks = {
        "confirm": lambda: calls.append("confirm") or HttpResponse("confirm"),
        "act": lambda: calls.append("act"),
        "done": lambda: calls.append("done") or HttpResponse("done"),
        "refused": lambda error: calls.append(("refused", error.code)) or HttpResponse("refused", status=409),
    }
    callbacks.update(overrides)
    return calls, callbacks


@pytest.mark.parametrize("method", ["get", "head"])
def test_confirm_then_act_asks_first(method):
    calls, callbacks = flow()
    assert pages.confirm_then_act(request(method), **callbacks).content == b"confirm"
    assert calls == ["confirm"]


def test_confirm_then_act_acts_on_post():
    calls, callbacks = flow()
    assert pages.confirm_then_act(request("post"), **callbacks).content == b"done"
    assert calls == ["act", "done"]


def test_confirm_then_act_says_why_the_service_refused():
    def act():
        raise RuleConflict("already_ended", "It has ended.")

    calls, callbacks = flow(act=act)
    response = pages.confirm_then_act(request("post"), **callbacks)
    assert response.status_code == 409
    assert calls == [("refused", "already_ended")]


@pytest.mark.parametrize("refused", ["given", "absent"])
def test_confirm_then_act_lets_not_allowed_go_up(refused):
    def act():
        raise NotAllowed("admins_only", "Admins only.")

    calls, callbacks = flow(act=act)
    if refused == "absent":
        del callbacks["refused"]
    with pytest.raises(NotAllowed):
        pages.confirm_then_act(request("post"), **callbacks)
    assert calls == []


def test_confirm_then_act_without_refused_lets_a_refusal_go_up():
    def act():
        raise RuleConflict("unexpected", "Unexpected.")

    calls, callbacks = flow(act=act)
    del callbacks["refused"]
    with pytest.raises(RuleConflict):
        pages.confirm_then_act(request("post"), **callbacks)
    assert calls == []


# --- the pages answer alike: the page and its fragment both say they vary on HX-Request ---------------------------


def varying_pages(owner_org):
    machine = MachineFactory(organisation=owner_org)
    workspace = WorkspaceFactory(organisation=owner_org)
    sharing = SharingFactory(owner=owner_org, machines=[machine])
    return [
        reverse("fleet:machines"),
        reverse("fleet:own_workspaces", args=[machine.pk]),
        reverse("fleet:workspace_rename", args=[workspace.pk]),
        reverse("fleet:workspace_delete", args=[workspace.pk]),
        reverse("home"),
        reverse("sharing:detail", args=[sharing.pk]),
        reverse("sharing:edit", args=[sharing.pk]),
        reverse("sharing:stop", args=[sharing.pk]),
        reverse("sharing:delete", args=[sharing.pk]),
    ]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_pages_with_a_fragment_vary_on_hx_request(client, owner_admin, owner_org, headers):
    client.force_login(owner_admin)
    for url in varying_pages(owner_org):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        assert "HX-Request" in response["Vary"], url


# --- one way to render a field -------------------------------------------------------------------------------------


def test_every_form_renders_its_fields_with_the_portal_template():
    form = NameForm({"name": ""})
    form.is_valid()
    field = form["name"].as_field_group()
    assert field.lstrip().startswith('<div class="field has-error">')
    assert '<ul class="errorlist" id="id_name_error"><li>This field is required.</li></ul>' in field
    assert str(form).strip() == field.strip()  # the whole form is its fields, through the same template
