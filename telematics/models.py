"""Telematics sources: the OEM feeds (ISO 15143-3) an organisation's machines report to, polled on a schedule, and the
record of each poll.

A source holds one secret (the Basic password, the OAuth2 client secret or the header's value): it is sent to the feed
and never shown back. Polls of one source never overlap: a poll first claims the source with a conditional UPDATE of
`claimed_until` (a lease, so a worker that dies mid-poll does not block the source for ever)."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

#: The poll interval a source may ask for: from every 5 minutes to once a day.
POLL_MINUTES_MIN, POLL_MINUTES_MAX = 5, 24 * 60


class AuthType(models.TextChoices):
    BASIC = "basic", _("HTTP Basic (user name and password)")
    OAUTH2 = "oauth2", _("OAuth2 client credentials")
    HEADER = "header", _("A key in a header")


class TelematicsSource(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), related_name="telematics_sources", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=120)
    base_url = models.URLField(_("base URL"), max_length=500)
    auth_type = models.CharField(_("authentication"), max_length=10, choices=AuthType.choices)
    #: basic: the user name.
    username = models.CharField(_("user name"), max_length=200, blank=True)
    #: oauth2: where to get a token, and the client's id.
    token_url = models.URLField(_("token URL"), max_length=500, blank=True)
    client_id = models.CharField(_("client id"), max_length=200, blank=True)
    #: header: the header's name.
    header_name = models.CharField(_("header name"), max_length=100, blank=True)
    #: The password, the client secret or the header's value, by auth_type. Never shown back.
    secret = models.CharField(_("secret"), max_length=2000)
    poll_minutes = models.PositiveIntegerField(_("poll every (minutes)"), default=60)
    create_machines = models.BooleanField(_("create unknown machines"), default=False)
    next_poll_at = models.DateTimeField(_("next poll at"), default=timezone.now)
    #: Failed polls in a row: the next poll waits the interval doubled this many times (capped).
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    #: Set while a poll runs; a poll that finds it in the future does not start.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("telematics source")
        verbose_name_plural = _("telematics sources")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="telematics_source_unique_name"),
            models.CheckConstraint(
                condition=Q(poll_minutes__gte=POLL_MINUTES_MIN, poll_minutes__lte=POLL_MINUTES_MAX),
                name="telematics_source_poll_minutes_range",
            ),
            models.CheckConstraint(
                condition=(
                    Q(auth_type=AuthType.BASIC, username__gt="")
                    | Q(auth_type=AuthType.OAUTH2, token_url__gt="", client_id__gt="")
                    | Q(auth_type=AuthType.HEADER, header_name__gt="")
                )
                & Q(secret__gt=""),
                name="telematics_source_auth_complete",
            ),
        ]
        indexes = [models.Index(fields=["next_poll_at"], name="telematics_source_due")]

    def __str__(self):
        return self.name


class TelematicsRun(models.Model):
    """One poll of a source: when it ran, what it saw and stored, and what went wrong. A run without `started_at` is
    queued ("Poll now"); one without `finished_at` is under way (or its worker died: the lease tells)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(TelematicsSource, related_name="runs", on_delete=models.CASCADE)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    machines_seen = models.PositiveIntegerField(_("machines seen"), default=0)
    machines_matched = models.PositiveIntegerField(_("machines matched"), default=0)
    machines_created = models.PositiveIntegerField(_("machines created"), default=0)
    readings_seen = models.PositiveIntegerField(_("readings seen"), default=0)
    readings_stored = models.PositiveIntegerField(_("readings stored"), default=0)
    #: Why the run stopped, or what it had to skip (a run can store data and still report a problem).
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("telematics run")
        verbose_name_plural = _("telematics runs")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["source", "-requested_at"], name="telematics_run_latest")]

    def __str__(self):
        return f"{self.source} {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self):
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


class SourceMachine(models.Model):
    """A machine of the organisation as one source knows it: its EquipmentID in that feed (the time series are asked
    for by it) and when the feed last listed it. Where the machine's data comes from, for its page."""

    source = models.ForeignKey(TelematicsSource, related_name="source_machines", on_delete=models.CASCADE)
    machine = models.ForeignKey("fleet.Machine", related_name="source_links", on_delete=models.CASCADE)
    equipment_id = models.CharField(_("equipment id in the feed"), max_length=200)
    last_listed_at = models.DateTimeField(_("last listed at"), default=timezone.now)

    class Meta:
        verbose_name = _("machine of a source")
        verbose_name_plural = _("machines of sources")
        constraints = [
            models.UniqueConstraint(fields=["source", "machine"], name="telematics_source_machine_unique"),
        ]

    def __str__(self):
        return f"{self.source} → {self.equipment_id}"
