"""The share centre's CSV export: the filtered list of sharings, one row each, dates in the current (the
organisation's) time zone. The view filters with the list's FilterSet and hands the sharings here."""

import csv
import json

from django.utils import timezone
from django.utils.translation import gettext as _

from hiboo_connect.csv_cells import csv_row

#: Rows fetched per round trip.
CHUNK = 500


def sharings_filename() -> str:
    return f"sharings-{timezone.localdate():%Y-%m-%d}.csv"


def _local(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="minutes") if moment else ""


def write_sharings(out, sharings) -> None:
    """Write `sharings` (with owner, beneficiary and machines already joined) as CSV to the file-like `out`."""
    writer = csv.writer(out)
    header = [
        _("Id"),
        _("Status"),
        _("Reference"),
        _("Owner"),
        _("Beneficiary"),
        _("Recipient"),
        _("Recipient's organisation"),
        _("Start"),
        _("End"),
        _("Stopped at"),
        _("Machines"),
        _("Machine ids"),
        _("Data packs"),
        _("Properties"),
        _("Notifications"),
        _("Created at"),
    ]
    writer.writerow(csv_row(header))
    now = timezone.now()  # the status the dates give now, never the cached column the lifecycle job may not have moved
    for sharing in sharings.iterator(chunk_size=CHUNK):
        machines = list(sharing.machines.all())
        row = [
            sharing.pk,
            sharing.status_label_at(now),
            sharing.reference,
            sharing.owner.name,
            sharing.beneficiary.name if sharing.beneficiary else "",
            sharing.recipient_email,
            sharing.recipient_organisation_name,
            _local(sharing.start_at),
            _local(sharing.end_at),
            _local(sharing.stopped_at),
            "; ".join(str(machine) for machine in machines),
            "; ".join(str(machine.pk) for machine in machines),
            "; ".join(sharing.data_packs),
            json.dumps(sharing.properties, ensure_ascii=False, sort_keys=True) if sharing.properties else "",
            _("yes") if sharing.notification_enabled else _("no"),
            _local(sharing.created_at),
        ]
        writer.writerow(csv_row(row))
