"""The e-mail channel: a message rendered from its kind's templates (subject, text body, HTML body) in its language,
with dates in its time zone and absolute links to the portal."""

from __future__ import annotations

import re
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .kinds import message_kind
from .models import Message


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def message_email(message: Message) -> EmailMultiAlternatives | None:
    """The e-mail of a message, or None when its kind finds the subject gone. The kind builds the context at send
    time (a colleague invitation always carries the invitation's current link, role and expiry)."""
    kind = message_kind(message.kind)
    context = kind.render_context(message)
    if context is None:
        return None
    context = {**context, "time_zone": message.time_zone, "portal_url": absolute_url("/")}
    folder = kind.template_folder
    with translation.override(message.language), timezone.override(zoneinfo.ZoneInfo(message.time_zone)):
        # Fold line breaks and runs of ASCII blanks only: French subjects keep their non-breaking spaces.
        subject = " ".join(re.split(r"[ \t\r\n]+", render_to_string(f"{folder}/subject.txt", context).strip()))
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[message.recipient],
        headers={"Message-ID": f"<{message.key.replace(':', '.')}@{domain}>"},
    )
    email.attach_alternative(html, "text/html")
    return email
