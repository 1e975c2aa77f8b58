"""One date style everywhere (hiboo_connect/formats): the named formats every template, e-mail and chart uses read
"29 Nov 2026, 23:19" in English and "13 déc. 2026, 23:19" in French."""

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import formats, timezone, translation

from fleet import charts

MOMENT = dt.datetime(2026, 12, 13, 23, 19, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("language", "day", "moment", "month"),
    [
        ("en", "13 Dec 2026", "13 Dec 2026, 23:19", "Dec 2026"),
        ("fr", "13 déc. 2026", "13 déc. 2026, 23:19", "déc. 2026"),
    ],
)
def test_the_named_formats(language, day, moment, month):
    with translation.override(language), timezone.override(dt.UTC):
        assert formats.date_format(MOMENT, "DATE_FORMAT") == day
        assert formats.date_format(MOMENT, "SHORT_DATE_FORMAT") == day
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == moment
        assert formats.date_format(MOMENT, "YEAR_MONTH_FORMAT") == month
        template = Template('{{ moment|date:"DATETIME_FORMAT" }} · {{ moment|date:"DATE_FORMAT" }}')
        assert template.render(Context({"moment": MOMENT})) == f"{moment} · {day}"


@pytest.mark.parametrize(
    ("language", "text"), [("en", "30 Sep 2026 – 1 Nov 2026"), ("fr", "30 sept. 2026 – 1 nov. 2026")]
)
def test_timeline_tooltips_use_the_same_style(language, text):
    bar = charts.TimelineBar(
        label="CTR-1",
        status="in_progress",
        status_label="In progress",
        start=dt.datetime(2026, 9, 30, 8, tzinfo=dt.UTC),
        end=dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC),
        url="",
    )
    with translation.override(language):
        assert charts.period_label(bar, dt.UTC) == text


def test_french_months_are_written_the_french_way():
    with translation.override("fr"):
        months = [formats.date_format(dt.date(2026, month, 1), "DATE_FORMAT") for month in range(1, 13)]

    assert months[4:9] == ["1 mai 2026", "1 juin 2026", "1 juil. 2026", "1 août 2026", "1 sept. 2026"]
    assert "Déc" not in " ".join(months)
