"""Measures of the lists, search, timeline, CSV exports, the API list and the readings (perf-lists fills these in:
replace not_measured() by the measure; world.organisation("small" | "mid" | "big"), world.admin(...) and
world.api_key(...) give the actors, bench/measures/__init__.py the timing helpers)."""

from . import measure, not_measured


@measure(3, "share centre, default page, 10k sharings ÷ 100", "≤ 1.3×, p95 ≤ 60 ms")
def share_centre_10k(world):
    return not_measured()


@measure(4, "share centre at 100k sharings", "≤ 1.5× the 10k figure")
def share_centre_100k(world):
    return not_measured()


@measure(5, "share centre search by machine model, 100k", "≤ 100 ms")
def share_centre_search(world):
    return not_measured()


@measure(6, "share-centre timeline, 10k", "≤ 150 ms, constant with the organisation's size")
def share_centre_timeline(world):
    return not_measured()


@measure(7, "CSV export, 10k rows / 100k rows", "≤ 0.5 s per 10k rows, streamed, memory flat")
def csv_export(world):
    return not_measured()


@measure(8, "GET /api/v1/sharings at 100k, p95: default / assetId=", "≤ 30 ms each")
def api_sharings_list(world):
    return not_measured()


@measure(10, "readings, beneficiary ÷ owner, same machine and range (selector)", "≤ 1.2×")
def readings_beneficiary_ratio(world):
    return not_measured()


@measure(11, "GET /assets/{id}/readings p95 (30 days, one metric)", "≤ 10 ms")
def readings_api(world):
    return not_measured()


@measure(12, "beneficiary machine page, machine received through 144 sharings", "≤ 1.3× the 1-sharing page")
def machine_page_many_sharings(world):
    return not_measured()
