"""Machines and their telemetry: numeric time series, positions and fault codes.

Telemetry is stored for tens of millions of rows: each table has one unique index that starts with
(machine, metric or timestamp), so "one machine, some metrics, a time range" is an index range scan, and storing a
reading twice is a no-op (inserts use ON CONFLICT DO NOTHING)."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation


class Workspace(models.Model):
    """A named group of machines inside one organisation: a site, a depot, a region."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), related_name="workspaces", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="fleet_workspace_unique_name"),
        ]

    def __str__(self):
        return self.name


class MachineCategory(models.TextChoices):
    EXCAVATOR = "excavator", _("Excavator")
    MINI_EXCAVATOR = "mini_excavator", _("Mini excavator")
    WHEEL_LOADER = "wheel_loader", _("Wheel loader")
    SKID_STEER = "skid_steer", _("Skid steer loader")
    TELEHANDLER = "telehandler", _("Telehandler")
    DUMPER = "dumper", _("Dumper")
    ARTICULATED_HAULER = "articulated_hauler", _("Articulated hauler")
    DOZER = "dozer", _("Dozer")
    CRANE = "crane", _("Crane")
    BACKHOE_LOADER = "backhoe_loader", _("Backhoe loader")
    ROLLER = "roller", _("Roller")
    AERIAL_WORK_PLATFORM = "aerial_work_platform", _("Aerial work platform")
    GENERATOR = "generator", _("Generator")
    COMPRESSOR = "compressor", _("Compressor")
    #: A machine a telematics feed brought, whose kind the feed does not say (ISO 15143-3 headers carry none).
    OTHER = "other", _("Other")


class Machine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("owner"), related_name="machines", on_delete=models.PROTECT
    )
    make = models.CharField(_("make"), max_length=80)
    model = models.CharField(_("model"), max_length=80)
    serial_number = models.CharField(_("serial number"), max_length=80)
    category = models.CharField(_("category"), max_length=30, choices=MachineCategory.choices)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    pin = models.CharField(_("PIN / VIN"), max_length=40, blank=True)
    workspaces = models.ManyToManyField(Workspace, verbose_name=_("workspaces"), related_name="machines", blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("machine")
        verbose_name_plural = _("machines")
        ordering = ["make", "model", "serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["make", "serial_number"], name="fleet_machine_unique_make_serial"),
        ]
        # An organisation's machines in the order every list shows them (the fleet list, the share centre's
        # timeline, which walks them in order until its page is full).
        indexes = [
            models.Index(
                fields=["organisation", "make", "model", "serial_number", "id"], name="fleet_machine_list_order"
            )
        ]

    def __str__(self):
        return f"{self.make} {self.model} {self.serial_number}"

    @property
    def default_display_name(self) -> str:
        """How a beneficiary first sees the machine: "model serial-number"."""
        return f"{self.model} {self.serial_number}"


class Reading(models.Model):
    """One value of one numeric metric of one machine at one instant."""

    machine = models.ForeignKey(Machine, related_name="readings", on_delete=models.CASCADE, db_index=False)
    metric = models.CharField(_("metric"), max_length=40)
    timestamp = models.DateTimeField(_("timestamp"))
    value = models.FloatField(_("value"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        constraints = [
            models.UniqueConstraint(
                fields=["machine", "metric", "timestamp"], name="fleet_reading_unique_machine_metric_time"
            ),
        ]

    def __str__(self):
        return f"{self.metric}={self.value} at {self.timestamp:%Y-%m-%d %H:%M}"


class Position(models.Model):
    """Where a machine was at one instant (the Location of ISO 15143-3); part of the essential pack."""

    machine = models.ForeignKey(Machine, related_name="positions", on_delete=models.CASCADE, db_index=False)
    timestamp = models.DateTimeField(_("timestamp"))
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    altitude = models.FloatField(_("altitude"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [
            models.UniqueConstraint(fields=["machine", "timestamp"], name="fleet_position_unique_machine_time"),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="fleet_position_valid_coordinates",
            ),
        ]

    def __str__(self):
        return f"{self.latitude:.5f}, {self.longitude:.5f} at {self.timestamp:%Y-%m-%d %H:%M}"


class FaultSeverity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class FaultCode(models.Model):
    """A fault or caution code raised by a machine (SAE J1939 identifier); the fault_codes pack."""

    machine = models.ForeignKey(Machine, related_name="fault_codes", on_delete=models.CASCADE, db_index=False)
    timestamp = models.DateTimeField(_("timestamp"))
    identifier = models.CharField(_("identifier"), max_length=40, help_text=_("SPN/FMI, e.g. 110-0"))
    description = models.CharField(_("description"), max_length=255)
    severity = models.CharField(_("severity"), max_length=10, choices=FaultSeverity.choices)
    source = models.CharField(_("source"), max_length=80, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fault code")
        verbose_name_plural = _("fault codes")
        constraints = [
            models.UniqueConstraint(
                fields=["machine", "timestamp", "identifier"], name="fleet_faultcode_unique_machine_time_id"
            ),
        ]

    def __str__(self):
        return f"{self.identifier} ({self.severity}) at {self.timestamp:%Y-%m-%d %H:%M}"
