"""The 403, 404 and 500 pages: inside the layout, in the visitor's language, saying what happened and where to go;
a refusal leaves one line in the log, never a traceback."""

import logging

import pytest
from django.test import Client, RequestFactory, override_settings
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from hiboo_connect.error_pages import server_error
from tests.factories import SharingFactory


def french(client: Client) -> Client:
    client.cookies["django_language"] = "fr"
    return client


def test_a_member_opening_an_admin_page_gets_the_styled_403(client, owner_member):
    client.force_login(owner_member)

    response = client.get("/sharings/new/")

    page = response.content.decode()
    assert response.status_code == 403
    assert '<nav class="main-nav" id="main-nav" aria-label="Main">' in page
    assert "You cannot do this with your role" in page
    assert 'href="/accounts/members/"' in page
    assert 'href="/"' in page


def test_an_admin_refused_a_sharing_of_another_organisation_is_told_who_can(client, beneficiary_admin, owner_org):
    sharing = SharingFactory(owner=owner_org, beneficiary=beneficiary_admin.organisation)
    client.force_login(beneficiary_admin)

    response = client.get(f"/sharings/{sharing.pk}/edit/")

    assert response.status_code == 403
    assert "only by the organisation that shares the machines" in response.content.decode()


def test_the_403_in_french(client, owner_member):
    client.force_login(owner_member)

    page = french(client).get("/sharings/new/").content.decode()

    assert '<html lang="fr">' in page
    assert "Vous ne pouvez pas faire cela avec votre rôle" in page


def test_a_403_writes_one_line_and_no_traceback(client, owner_member, caplog):
    client.force_login(owner_member)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/sharings/new/")

    refusals = [record for record in caplog.records if record.name == "django.request"]
    assert len(refusals) == 1
    assert refusals[0].status_code == 403
    assert refusals[0].exc_info is None
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("logged_in", [True, False])
def test_the_404_says_what_happened_in_the_layout(client, owner_admin, logged_in, settings):
    assert settings.DEBUG is False  # the test runner's default, like production
    if logged_in:
        client.force_login(owner_admin)

    # A machine of no one (a visitor would be sent to log in first), or an address that does not exist.
    response = client.get("/fleet/machines/00000000-0000-4000-8000-000000000000/" if logged_in else "/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist, or is not yours to see" in page
    assert ('<nav class="main-nav"' in page) is logged_in
    assert ("If it belongs to your organisation, log in first." in page) is not logged_in


def test_the_404_in_french(db):
    page = french(Client()).get("/no-such-page/").content.decode()

    assert "Cette page n’existe pas, ou vous n’avez pas à la voir" in page


@override_settings(ROOT_URLCONF="tests.error_urls")
@pytest.mark.parametrize(("language", "text"), [("en", "Something went wrong on our side"), ("fr", "Un problème")])
def test_the_500_is_styled_in_the_visitor_s_language(db, language, text, caplog):
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = language

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/broken/")

    page = response.content.decode()
    assert response.status_code == 500
    assert f'<html lang="{language}">' in page
    assert text in page
    assert 'href="/"' in page
    assert "Traceback" in caplog.text  # a server error keeps its traceback for the team


def test_the_500_still_answers_when_the_page_cannot_render_with_the_request(db):
    def user_lookup_fails():
        raise ConnectionError("the database is down")

    request = RequestFactory().get("/broken/")
    request.user = SimpleLazyObject(user_lookup_fails)  # as when the database is what broke

    with translation.override("en"):
        response = server_error(request)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
