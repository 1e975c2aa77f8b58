"""The French catalogue is complete: every translatable string of the code and templates has a French translation.

The catalogue is extracted afresh with Django's makemessages in a scratch copy of the project (gettext's xgettext is
installed by `make test`), so a string added without a translation fails here."""

import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["accounts", "fleet", "sharing", "hiboo_connect", "templates", "manage.py"]


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
