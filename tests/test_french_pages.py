"""What the pages actually render in French: the catalogue can be complete while a page still shows English (a label
built when a class is defined, in the language active then; a string a library makes). Each main page is rendered in
French as an admin of an owner and of a beneficiary, and every piece of text it shows (text, aria-label, placeholder,
title, alt) is compared with the English side of the catalogue: a whole piece equal to an English string whose French
differs fails, with the page and the string. Text marked lang="en" (the API's own words, the "English" switch) is
English on purpose."""

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.utils import timezone

from tests.factories import (
    MachineFactory,
    ReadingFactory,
    SharingFactory,
    UserFactory,
    WorkspaceFactory,
)

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "fr" / "LC_MESSAGES" / "django.po"
SHOWN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def english_strings() -> set[str]:
    """The catalogue's English strings that read differently in French (with no placeholder: a whole piece of text)."""
    with CATALOGUE.open("rb") as po_file:
        catalogue = read_po(po_file, locale="fr")
    english: set[str] = set()
    for message in catalogue:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            if isinstance(text, str) and text and "%" not in text and "{" not in text and text not in strings:
                english.add(text)
    return english


class ShownText(HTMLParser):
    """The pieces of text a page shows, leaving out what is marked English and what is never shown."""

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, bool]] = []  # each open element, and whether it is marked English or hidden
        self.pieces: list[str] = []

    @property
    def skipped(self) -> bool:
        return any(skip for _, skip in self.open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = attributes.get("lang") == "en" or tag in ("script", "style")
        if not (skip or self.skipped):
            self.pieces += [attributes[name] for name in SHOWN_ATTRIBUTES if attributes.get(name)]
            if tag == "input" and attributes.get("type") in ("submit", "button") and attributes.get("value"):
                self.pieces.append(attributes["value"])
        if tag not in VOID:
            self.open.append((tag, skip))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self.skipped:
            self.pieces.append(text)


def english_on(page: str, english: set[str]) -> list[str]:
    parser = ShownText()
    parser.feed(page)
    return sorted({piece for piece in parser.pieces if piece in english})


def at(days: int) -> dt.datetime:
    return timezone.now().replace(hour=8, minute=0, second=0, microsecond=0) + dt.timedelta(days=days)


@pytest.fixture
def portal(owner_org, owner_admin, beneficiary_org, beneficiary_admin):
    machine = MachineFactory(organisation=owner_org, make="Volvo", model="EC220E", serial_number="VCEC220EV00318")
    for offset in range(-5, 0):
        ReadingFactory(machine=machine, metric="operating_hours", timestamp=at(offset), value=100 + offset)
    workspace = WorkspaceFactory(organisation=owner_org, name="Lyon depot")
    machine.workspaces.add(workspace)
    UserFactory(organisation=owner_org, email="member@rentandgo.example")
    running = SharingFactory(
        owner=owner_org, beneficiary=beneficiary_org, machines=[machine], start_at=at(-3), end_at=at(20)
    )
    SharingFactory(owner=owner_org, beneficiary=None, machines=[machine], start_at=at(2), reference="PO-1")
    return {"machine": machine, "sharing": running, "workspace": workspace}


def french_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "fr"
    return client


def test_the_owner_s_pages_show_no_english(owner_admin, portal):
    client = french_client(owner_admin)
    english = english_strings()
    sharing, machine, workspace = portal["sharing"], portal["machine"], portal["workspace"]
    found = {}
    for path in (
        "/",
        "/?view=timeline",
        "/?direction=incoming",
        "/?status=in_progress&ordering=-start",
        f"/sharings/{sharing.pk}/",
        f"/sharings/{sharing.pk}/edit/",
        f"/sharings/{sharing.pk}/stop/",
        "/sharings/new/",
        "/sharings/notifications/failed/",
        "/fleet/",
        f"/fleet/machines/{machine.pk}/",
        "/fleet/workspaces/",
        f"/fleet/workspaces/{workspace.pk}/rename/",
        "/accounts/members/",
        "/accounts/organisation/",
        "/accounts/api-keys/",
        "/telematics/",
        "/telematics/new/",
        "/webhooks/",
        "/api/v1/docs/",
        "/fleet/machines/00000000-0000-4000-8000-000000000000/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert '<html lang="fr">' in response.content.decode(), path
        if shown := english_on(response.content.decode(), english):
            found[path] = shown
    assert not found, f"English on French pages: {found}"


def test_the_beneficiary_s_pages_show_no_english(beneficiary_admin, portal):
    client = french_client(beneficiary_admin)
    english = english_strings()
    found = {}
    for path in ("/", "/?direction=incoming", "/fleet/", f"/fleet/machines/{portal['machine'].pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        if shown := english_on(response.content.decode(), english):
            found[path] = shown
    assert not found, f"English on French pages: {found}"


def test_the_sort_options_are_french(owner_admin, portal):
    page = french_client(owner_admin).get("/").content.decode()

    assert "Début (plus récent d’abord)" in page
    assert "Start (descending)" not in page


def test_the_check_finds_english_where_there_is_some():
    """The check itself: an English string of the catalogue is found, the same inside lang="en" is not."""
    english = {"Start (descending)", "Sort by"}
    page = (
        '<select aria-label="Sort by"><option>Start (descending)</option></select>'
        '<p lang="en"><span>Sort by</span></p><input type="submit" value="Sort by"><br><img alt="x">'
    )

    assert english_on(page, english) == ["Sort by", "Start (descending)"]
    assert english_on('<p lang="en">Sort by <b>x</b></p>', english) == []
