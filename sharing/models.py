"""Sharings, the machines they carry, and the beneficiary's view of received machines."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from fleet.data_packs import ALL_DATA_PACKS
from fleet.models import Machine, Workspace
from hiboo_connect.dates import ShowableDateTimeField

from . import lifecycle
from .lifecycle import SharingStatus, access_window, sharing_status


def all_data_packs():
    return list(ALL_DATA_PACKS)


def _where(prefix: str, **lookups) -> models.Q:
    """`lookups` as a Q, each name prefixed: "" on Sharing, "sharing__" from a row that points at a sharing."""
    return models.Q(**{prefix + name: value for name, value in lookups.items()})


# The rows the lifecycle job may still have to start or to end. The two partial indexes hold just these rows and
# due_to_start / due_to_end filter on the same condition, so the planner reads through the indexes.
def _may_start() -> models.Q:
    return models.Q(status__in=list(lifecycle.NOT_STARTED_STATUSES), beneficiary__isnull=False)


def _may_end() -> models.Q:
    return models.Q(status__in=list(lifecycle.OPEN_STATUSES), end_at__isnull=False)


class SharingQuerySet(models.QuerySet):
    """The lifecycle's rules as queries: each method keeps exactly the sharings for which its namesake in lifecycle.py
    answers True, computed from the dates (tests/sharing/test_lifecycle_queries.py holds each pair to the same
    answers). The `*_q` forms give the same condition to a query that reaches sharings through a relation."""

    @staticmethod
    def window_reaches_q(moment, *, prefix: str = "") -> models.Q:
        not_ended = _where(prefix, end_at__isnull=True) | _where(prefix, end_at__gt=moment)
        not_stopped = _where(prefix, stopped_at__isnull=True) | _where(prefix, stopped_at__gt=moment)
        return not_ended & not_stopped

    @classmethod
    def running_at_q(cls, now, *, prefix: str = "") -> models.Q:
        return _where(prefix, beneficiary__isnull=False, start_at__lte=now) & cls.window_reaches_q(now, prefix=prefix)

    @staticmethod
    def status_expression(now) -> models.Case:
        """sharing_status as an expression: the status the dates give at `now`, for a query that writes it per row
        (the CSV export) rather than reading each row's dates back into Python."""
        return models.Case(
            models.When(stopped_at__isnull=False, then=models.Value(SharingStatus.STOPPED)),
            models.When(end_at__lte=now, then=models.Value(SharingStatus.TERMINATED)),
            models.When(beneficiary__isnull=True, then=models.Value(SharingStatus.PENDING)),
            models.When(start_at__gt=now, then=models.Value(SharingStatus.SCHEDULED)),
            default=models.Value(SharingStatus.IN_PROGRESS),
            output_field=models.CharField(),
        )

    def window_reaches(self, moment) -> SharingQuerySet:
        return self.filter(self.window_reaches_q(moment))

    def window_ended_by(self, moment) -> SharingQuerySet:
        """The complement of window_reaches: stopped or ended at or before `moment`."""
        return self.filter(models.Q(end_at__lte=moment) | models.Q(stopped_at__lte=moment))

    def running_at(self, now) -> SharingQuerySet:
        return self.filter(self.running_at_q(now))

    def overlapping(self, start_at, end_at) -> SharingQuerySet:
        """Windows overlapping [start_at, end_at); end_at None: open-ended."""
        condition = self.window_reaches_q(start_at)
        if end_at is not None:
            condition &= models.Q(start_at__lt=end_at)
        return self.filter(condition)

    def due_to_start(self, now) -> SharingQuerySet:
        return self.filter(_may_start(), start_at__lte=now)

    def due_to_end(self, now) -> SharingQuerySet:
        return self.filter(_may_end(), end_at__lte=now)


class Sharing(models.Model):
    """One owner → one beneficiary, one or more machines, a period, a reference and data packs.

    `status` is a cache for listing and filtering; access decisions use the dates (see lifecycle.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        Organisation, verbose_name=_("owner"), related_name="outgoing_sharings", on_delete=models.PROTECT
    )
    beneficiary = models.ForeignKey(
        Organisation,
        verbose_name=_("beneficiary"),
        related_name="incoming_sharings",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sender"),
        related_name="sent_sharings",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    sender_label = models.CharField(_("sent by"), max_length=255, help_text=_("User e-mail or API key name."))
    recipient_email = models.EmailField(_("recipient"))
    recipient_organisation_name = models.CharField(_("recipient's organisation"), max_length=200, blank=True)
    machines: models.ManyToManyField[Machine, SharingMachine] = models.ManyToManyField(
        Machine, verbose_name=_("machines"), through="SharingMachine", related_name="sharings"
    )
    reference = models.CharField(_("reference"), max_length=255, blank=True)
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    data_packs = models.JSONField(_("data packs"), default=all_data_packs)
    notification_enabled = models.BooleanField(_("notifications"), default=True)
    # The rental contract that manages this sharing, if any (DESIGN §7), and the contract line it stands for. A string
    # reference: contracts sit in a layer above this one, which never imports them.
    contract = models.ForeignKey(
        "contracts.Contract",
        verbose_name=_("contract"),
        related_name="sharings",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    # A database default too: bulk paths that write sharings in SQL (the bench world's COPY) need not know the column.
    contract_line = models.CharField(_("contract line"), max_length=100, blank=True, default="", db_default="")
    # Read back within what every time zone can show: a far-future date stored before DESIGN §3 bounded them at 2099
    # must not break a page, an export or an e-mail of either organisation.
    start_at = ShowableDateTimeField(_("start"))
    end_at = ShowableDateTimeField(_("end"), null=True, blank=True)
    stopped_at = ShowableDateTimeField(_("stopped at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=SharingStatus.choices)
    # Stamped by the services with the `now` of the action (the same as its audit event), not read from the clock.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = SharingQuerySet.as_manager()

    class Meta:
        verbose_name = _("sharing")
        verbose_name_plural = _("sharings")
        ordering = ["-start_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__isnull=True) | models.Q(end_at__gt=models.F("start_at")),
                name="sharing_end_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(beneficiary=models.F("owner")),
                name="sharing_beneficiary_is_not_owner",
            ),
            models.CheckConstraint(condition=models.Q(status__in=SharingStatus.values), name="sharing_status_valid"),
        ]
        indexes = [
            # The share centre's default order (filters.py: latest start first, then created, then id), one per
            # direction: a page is the first rows of one index range, however many sharings came before.
            models.Index(fields=["owner", "-start_at", "-created_at", "id"], name="sharing_owner_list_order"),
            models.Index(
                fields=["beneficiary", "-start_at", "-created_at", "id"], name="sharing_beneficiary_list_order"
            ),
            # The status chips count from these without reading a row (index-only).
            # The sharings whose windows reach a moment (a timeline's period): those ending after it, or never.
            models.Index(fields=["owner", "end_at", "start_at"], name="sharing_owner_end"),
            models.Index(fields=["beneficiary", "end_at", "start_at"], name="sharing_beneficiary_end"),
            models.Index(fields=["owner", "status"], name="sharing_owner_status"),
            models.Index(fields=["beneficiary", "status"], name="sharing_beneficiary_status"),
            models.Index(fields=["owner", "reference"], name="sharing_owner_reference"),
            models.Index(fields=["recipient_email"], name="sharing_recipient_email"),
            # The lifecycle job reads only due rows: those two partial indexes hold just the rows that can still move.
            models.Index(fields=["start_at"], name="sharing_due_to_start", condition=_may_start()),
            models.Index(fields=["end_at"], name="sharing_due_to_end", condition=_may_end()),
        ]

    def __str__(self):
        return self.reference or str(self.id)

    def status_at(self, now) -> str:
        return sharing_status(
            beneficiary_known=self.beneficiary_id is not None,
            start_at=self.start_at,
            end_at=self.end_at,
            stopped_at=self.stopped_at,
            now=now,
        )

    def status_label_at(self, now) -> str:
        """What a person is shown: the status the dates give at `now`, never the cached column (which the lifecycle
        job may not have moved yet)."""
        return str(SharingStatus(self.status_at(now)).label)

    @property
    def window(self):
        return access_window(start_at=self.start_at, end_at=self.end_at, stopped_at=self.stopped_at)


class SharingMachine(models.Model):
    sharing = models.ForeignKey(Sharing, related_name="sharing_machines", on_delete=models.CASCADE)
    machine = models.ForeignKey(Machine, related_name="sharing_machines", on_delete=models.PROTECT)

    class Meta:
        verbose_name = _("shared machine")
        verbose_name_plural = _("shared machines")
        constraints = [
            models.UniqueConstraint(fields=["sharing", "machine"], name="sharing_machine_unique"),
        ]
        indexes = [models.Index(fields=["machine", "sharing"], name="sharing_machine_by_machine")]

    def __str__(self):
        return f"{self.machine} in {self.sharing}"


class ReceivedMachine(models.Model):
    """The beneficiary's own view of a machine shared with it: its name and workspaces. The owner never sees it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("beneficiary"), related_name="received_machines", on_delete=models.CASCADE
    )
    machine = models.ForeignKey(
        Machine, verbose_name=_("machine"), related_name="received_as", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=200)
    workspaces = models.ManyToManyField(
        Workspace, verbose_name=_("workspaces"), related_name="received_machines", blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("received machine")
        verbose_name_plural = _("received machines")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "machine"], name="sharing_received_machine_unique"),
        ]

    def __str__(self):
        return self.name


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class ExtensionRequest(models.Model):
    """A beneficiary's request for a later end of a sharing it receives (DESIGN §9), and the owner's answer. At most
    one is pending per sharing: asking again answers the pending one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sharing = models.ForeignKey(
        Sharing, verbose_name=_("sharing"), related_name="extension_requests", on_delete=models.CASCADE
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    end_at = ShowableDateTimeField(_("end asked for"))
    previous_end_at = ShowableDateTimeField(_("end when asked"))
    message = models.TextField(_("message"), max_length=1000, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    requested_by_label = models.CharField(_("asked by"), max_length=255, help_text=_("User e-mail or API key name."))
    answer = models.TextField(_("answer"), max_length=1000, blank=True)
    answered_by_label = models.CharField(_("answered by"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("asked at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sharing"], condition=models.Q(status="pending"), name="sharing_one_pending_extension"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "declined"]), name="sharing_extension_status"
            ),
        ]
        indexes = [models.Index(fields=["status", "sharing"], name="sharing_extensions_by_status")]

    def __str__(self):
        return f"{self.sharing} → {self.end_at}"
