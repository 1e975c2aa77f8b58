"""Reads of telematics sources, scoped to the acting organisation: a source of another organisation is NotFound."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from accounts.models import Organisation
from hiboo_connect.errors import get_or_not_found

from .models import SourceMachine, TelematicsRun, TelematicsSource


def sources_of(organisation: Organisation) -> QuerySet[TelematicsSource]:
    return TelematicsSource.objects.filter(organisation=organisation)


def source_get(*, organisation: Organisation, source_id) -> TelematicsSource:
    return get_or_not_found(
        sources_of(organisation), "telematics_source_not_found", _("No such telematics source."), pk=source_id
    )


def with_last_run(sources: QuerySet[TelematicsSource]) -> QuerySet[TelematicsSource]:
    """The sources with `last_run_id`, their newest run's id (a subquery on the run index)."""
    newest = TelematicsRun.objects.filter(source=OuterRef("pk")).order_by("-requested_at").values("pk")[:1]
    return sources.annotate(last_run_id=Subquery(newest))


def attach_last_runs(sources) -> list[TelematicsSource]:
    """Sources from `with_last_run`, each given `last_run` (a run or None) with one query however many."""
    sources = list(sources)
    runs = TelematicsRun.objects.in_bulk([source.last_run_id for source in sources if source.last_run_id])
    for source in sources:
        source.last_run = runs.get(source.last_run_id)
    return sources


def runs_of(source: TelematicsSource, *, limit: int = 10) -> list[TelematicsRun]:
    return list(source.runs.order_by("-requested_at")[:limit])


def sources_of_machine(machine) -> list[SourceMachine]:
    """The sources a machine's data comes from (the links the polls made), most recently listed first."""
    return list(SourceMachine.objects.filter(machine=machine).select_related("source").order_by("-last_listed_at"))
