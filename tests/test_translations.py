"""The French catalogue is complete: every translatable string of the code and templates has a French translation.

The catalogue is extracted afresh with Django's makemessages in a scratch copy of the project (gettext's xgettext is
installed by `make test`), so a string added without a translation fails here."""

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "accounts",
    "audit",
    "outbox",
    "fleet",
    "sharing",
    "telematics",
    "events",
    "contracts",
    "aemp",
    "hiboo_connect",
    "templates",
    "manage.py",
]


def test_xgettext_is_installed():
    assert shutil.which("xgettext"), "gettext's xgettext is needed to check the catalogue (make test installs it)."


def extracted_catalogue(tmp_path):
    for name in SOURCES:
        (tmp_path / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "locale", tmp_path / "locale")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--symlinks", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "hiboo_connect.test_settings",
            "VAR_DIR": str(tmp_path),
        },
    )
    with (tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        return read_po(po_file, locale="fr")


def test_every_string_has_a_french_translation(tmp_path):
    catalogue = extracted_catalogue(tmp_path)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        translations = message.string if isinstance(message.string, tuple | list) else [message.string]
        if message.fuzzy or not all(translations):
            locations = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
            missing.append(f"{message.id!r} ({locations})")
    assert not missing, f"{len(missing)} strings have no French translation:\n" + "\n".join(missing[:50])


def test_words_with_two_meanings_and_counted_words_read_right_in_french():
    """ "From"/"To" as a date range and as sender/recipient are separate messages (pgettext), and counts use plural
    forms (ngettext), so the French can differ where English does not."""
    from django.template.loader import render_to_string
    from django.utils import translation

    from sharing.filters import SharingFilterSet

    start = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
    context = {"owner": "Rent and Go", "beneficiary": "BuildCo", "recipient_email": "admin@buildco.example"}
    context |= {"machine_count": 2, "machines": ["Excavator", "Crane"], "start_at": start, "time_zone": "UTC"}
    with translation.override("fr"):
        labels = [str(SharingFilterSet.base_filters[name].label) for name in ("date_from", "date_to")]
        summary = render_to_string("emails/_summary.txt", context)
        summary_html = render_to_string("emails/_summary.html", context)
        created = [translation.ngettext("%(count)d sharing created.", "%(count)d sharings created.", n) for n in (1, 2)]
        machines = [translation.ngettext("%(count)d machine", "%(count)d machines", n) for n in (1, 2)]
    assert labels == ["Du", "Au"]
    assert "De\u00a0: Rent and Go" in summary
    assert "À\u00a0: BuildCo (admin@buildco.example)" in summary
    assert "<dt>De</dt><dd>Rent and Go</dd>" in summary_html
    assert "<dt>Machines (2)</dt>" in summary_html
    assert [text % {"count": n} for text, n in zip(created, (1, 2), strict=True)] == [
        "1 partage créé.",
        "2 partages créés.",
    ]
    assert [text % {"count": n} for text, n in zip(machines, (1, 2), strict=True)] == ["1 machine", "2 machines"]
