"""POST /api/v1/contracts/import and its template (DESIGN §7): what French spreadsheets export works (semicolons, a
BOM, dd/mm/yyyy), every error names its row and column, nothing applies unless the whole file is valid and free of
conflicts, and the preview is the dry-run plan of every contract."""

import io

import pytest

from contracts.models import Contract
from sharing.models import Sharing
from tests.factories import MachineFactory

from .conftest import DAY, NOW, contract_body, put

pytestmark = pytest.mark.django_db

HEADER = (
    "reference,recipient,recipientOrganisationName,assetId,make,serialNumber,lineReference,startDate,endDate,"
    "dataPacksCodes,status,customer,site"
)


def send(api, text, *, params="", content_type="text/csv", encoding="utf-8"):
    return api.client.post(
        f"/api/v1/contracts/import{params}",
        data=text.encode(encoding),
        content_type=content_type,
        headers=api._headers(None),
    )


def test_the_template_lists_the_columns(now, admin_api):
    response = admin_api.get("contracts/import/template")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header = response.content.decode().splitlines()[0]
    assert header.startswith("reference,recipient,recipientOrganisationName,assetId,make,serialNumber,lineReference")


def test_a_file_applies_one_contract_per_reference(now, admin_api, machines, beneficiary_admin):
    rows = [
        HEADER,
        f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,essential,active,BuildCo,Lyon",
        f"C-1,{beneficiary_admin.email},,,,{machines[1].serial_number},L2,2026-07-13,,essential,active,BuildCo,Lyon",
        f"C-2,{beneficiary_admin.email},,,Caterpillar,{machines[2].serial_number},,2026-07-20,2026-07-31,,,BuildCo,",
    ]
    response = send(admin_api, "\n".join(rows))
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["summary"]["create"] == 3
    assert [contract["reference"] for contract in data["contracts"]] == ["C-1", "C-2"]
    c1 = Contract.objects.get(reference="C-1")
    assert c1.desired_state["endDate"] is None  # one line open-ended: so is the contract
    assert c1.desired_state["properties"] == {"customer": "BuildCo", "site": "Lyon"}
    line = Sharing.objects.get(contract__reference="C-2")
    # Days in the organisation's time zone (Europe/Paris); the end day is included whole.
    assert line.start_at.isoformat() == "2026-07-19T22:00:00+00:00"
    assert line.end_at.isoformat() == "2026-07-31T22:00:00+00:00"
    assert send(admin_api, "\n".join(rows)).json()["data"]["summary"]["noop"] == 3


def test_what_french_spreadsheets_export_works(now, admin_api, machines, beneficiary_admin):
    text = "\ufeff" + "\r\n".join(
        [
            HEADER.replace(",", ";"),
            f"C-1;{beneficiary_admin.email};;;;{machines[0].serial_number};L1;13/07/2026;12/08/2026;"
            "essential, usage_hours;active;Bâtiments Dupré;Évry",
        ]
    )
    response = send(admin_api, text)
    assert response.status_code == 200, response.json()
    sharing = Sharing.objects.get()
    assert sharing.data_packs == ["essential", "usage_hours"]
    assert sharing.properties == {"customer": "Bâtiments Dupré", "site": "Évry"}
    assert sharing.end_at.isoformat() == "2026-08-12T22:00:00+00:00"


def test_the_preview_is_the_dry_run_plan_and_writes_nothing(now, admin_api, machines, beneficiary_admin):
    row = f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,,,,"
    response = send(admin_api, f"{HEADER}\n{row}", params="?dryRun=true")
    assert response.status_code == 200
    assert response.json()["data"]["dryRun"] is True
    assert response.json()["data"]["contracts"][0]["plan"][0]["action"] == "create"
    assert not Contract.objects.exists()
    assert not Sharing.objects.exists()


def test_every_error_names_its_row_and_column_and_nothing_applies(
    now, admin_api, machines, beneficiary_admin, owner_org
):
    MachineFactory(organisation=owner_org, make="Volvo", serial_number=machines[1].serial_number.lower() + "x")
    rows = [
        HEADER,
        f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,,,,",
        f"C-1,other@buildco.example,,{machines[1].pk},,,L2,2026-07-13,2026-08-12,,,,",
        f"C-2,{beneficiary_admin.email},,not-a-uuid,,,,31/13/2026,,,,,",
        f"C-3,{beneficiary_admin.email},,,,NO-SUCH-SERIAL,,2026-07-13,2100-01-01,everything,paused,,",
        f",{beneficiary_admin.email},,{machines[2].pk},,,,2026-07-13,,,,,",
        f"C-4,{beneficiary_admin.email},,{machines[2].pk},,,,2026-07-13,2026-07-01,,,,",
        f"C-5,{beneficiary_admin.email},,,,,,,,,,,",
    ]
    response = send(admin_api, "\n".join(rows))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_csv"
    errors = {(error["row"], error["column"], error["code"]) for error in response.json()["data"]["errors"]}
    assert errors == {
        (3, "recipient", "contract_mismatch"),
        (4, "assetId", "invalid_asset_id"),
        (4, "startDate", "invalid_date"),
        (5, "serialNumber", "unknown_machine"),
        (5, "endDate", "invalid_date"),
        (5, "dataPacksCodes", "unknown_data_pack"),
        (5, "status", "invalid_status"),
        (6, "reference", "reference_required"),
        (7, "endDate", "end_before_start"),
        (8, "assetId", "asset_required"),
        (8, "startDate", "start_required"),
    }
    assert not Contract.objects.exists()
    assert not Sharing.objects.exists()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_file"),
        ("reference,recipient,colour\n", "unknown_column"),
        ("reference,assetId\n", "missing_column"),
        (HEADER + "\n", "no_rows"),
    ],
)
def test_files_that_are_not_contracts_answer_400(now, admin_api, text, code):
    response = send(admin_api, text)
    assert response.status_code == 400, response.json()
    assert code in {error["code"] for error in response.json()["data"]["errors"]}, response.json()


def test_a_file_not_in_utf8_answers_400(now, admin_api, beneficiary_admin, machines):
    text = f"{HEADER}\nC-1,{beneficiary_admin.email},,{machines[0].pk},,,,2026-07-13,,,,Société,"
    response = send(admin_api, text, encoding="latin-1")
    assert response.status_code == 400
    assert response.json()["data"]["errors"][0]["code"] == "invalid_encoding"


def test_a_conflict_in_any_plan_applies_nothing(now, admin_api, machines, beneficiary_admin, frozen):
    good = f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,,,,"
    assert send(admin_api, f"{HEADER}\n{good}").status_code == 200
    frozen(NOW + 3 * DAY)
    moved = f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-14,2026-08-12,,,,"
    new = f"C-2,{beneficiary_admin.email},,{machines[1].pk},,,L1,2026-07-20,2026-08-12,,,,"
    response = send(admin_api, f"{HEADER}\n{moved}\n{new}")
    assert response.status_code == 409
    assert response.json()["data"]["summary"]["conflict"] == 1
    assert not Contract.objects.filter(reference="C-2").exists()
    preview = send(admin_api, f"{HEADER}\n{moved}\n{new}", params="?dryRun=true")
    assert preview.status_code == 200
    assert preview.json()["data"]["summary"] == {**preview.json()["data"]["summary"], "conflict": 1, "create": 1}


def test_a_contract_the_rules_refuse_names_its_first_row(now, admin_api, machines, owner_member):
    row = f"C-1,{owner_member.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,,,,"
    response = send(admin_api, f"{HEADER}\n{row}")
    assert response.status_code == 400
    assert response.json()["data"]["errors"] == [
        {
            "row": 2,
            "column": "recipient",
            "code": "recipient_in_own_organisation",
            "message": "The recipient is a member of your own organisation; share with another organisation.",
        }
    ]


def test_the_file_may_come_as_a_multipart_field(now, admin_api, machines, beneficiary_admin):
    row = f"C-1,{beneficiary_admin.email},,{machines[0].pk},,,L1,2026-07-13,2026-08-12,,,,"
    upload = io.BytesIO(f"{HEADER}\n{row}".encode())
    upload.name = "contracts.csv"
    response = admin_api.client.post("/api/v1/contracts/import", {"file": upload}, headers=admin_api._headers(None))
    assert response.status_code == 200, response.json()
    missing = admin_api.client.post("/api/v1/contracts/import", {"other": "x"}, headers=admin_api._headers(None))
    assert missing.status_code == 400
    assert "file" in missing.json()["error"]["fields"]


def test_a_viewer_key_cannot_import(now, viewer_api):
    assert send(viewer_api, HEADER).status_code == 403


def test_a_serial_number_two_makes_share_needs_the_make(now, admin_api, owner_org, beneficiary_admin):
    MachineFactory(organisation=owner_org, make="Volvo", serial_number="SN-1")
    wanted = MachineFactory(organisation=owner_org, make="JCB", serial_number="SN-1")
    row = f"C-1,{beneficiary_admin.email},,,{{make}},SN-1,L1,2026-07-13,2026-08-12,,,,"
    ambiguous = send(admin_api, f"{HEADER}\n{row.format(make='')}")
    assert [(e["row"], e["column"], e["code"]) for e in ambiguous.json()["data"]["errors"]] == [
        (2, "make", "ambiguous_serial_number")
    ]
    response = send(admin_api, f"{HEADER}\n{row.format(make='jcb')}")
    assert response.status_code == 200
    assert Sharing.objects.get().sharing_machines.get().machine == wanted


def test_a_file_of_too_many_lines_answers_400(now, admin_api, monkeypatch):
    from contracts import imports

    monkeypatch.setattr(imports, "ROWS_MAX", 2)
    response = send(admin_api, HEADER + "\nC-1\nC-2\nC-3\n")
    assert response.json()["data"]["errors"][0]["code"] == "too_many_rows"


def test_any_reference_works_import_and_import_template_included(now, admin_api, machines, beneficiary_admin):
    """POST /contracts/import imports a file and GET /contracts/import/template gives the template (DESIGN §7); every
    other method of those paths addresses the contract named "import" or "import/template"."""
    body = contract_body(machines[:1], recipient=beneficiary_admin.email)
    assert admin_api.get("contracts/import").status_code == 404
    for reference in ("import", "import/template"):
        created = put(admin_api, reference, body)
        assert created.status_code == 201, created.json()
        assert created.json()["data"]["reference"] == reference
        assert put(admin_api, reference, body, params={"dryRun": "true"}).json()["data"]["summary"]["noop"] == 1
    read = admin_api.get("contracts/import")
    assert (read.status_code, read.json()["data"]["reference"]) == (200, "import")
    template = admin_api.get("contracts/import/template")
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    listed = admin_api.get("contracts", {"q": "import/template"}).json()["data"]["rows"]
    assert "import/template" in [row["reference"] for row in listed]
    assert sorted(Contract.objects.values_list("reference", flat=True)) == ["import", "import/template"]
    row = f"C-9,{beneficiary_admin.email},,{machines[1].pk},,,L1,2026-07-13,2026-08-12,essential,active,BuildCo,Lyon"
    imported = send(admin_api, f"{HEADER}\n{row}", params="?dryRun=true")
    assert imported.status_code == 200, imported.json()
    assert imported.json()["data"]["summary"]["create"] == 1
    for reference in ("import", "import/template"):
        cancelled = admin_api.delete(f"contracts/{reference}")
        assert cancelled.status_code == 200
        assert cancelled.json()["data"]["status"] == "cancelled"
        assert Contract.objects.get(reference=reference).status == "cancelled"


def _file(beneficiary_admin, machines, contracts):
    rows = [HEADER]
    for number in range(contracts):
        for line, machine in enumerate(machines[number * 3 : number * 3 + 3], 1):
            rows.append(
                f"C-{number},{beneficiary_admin.email},,{machine.pk},,,L{line},2026-07-13,2026-08-12,essential,"
                "active,BuildCo,Lyon"
            )
    return "\n".join(rows)


@pytest.mark.parametrize("contracts", [2, 8])
def test_a_preview_reads_a_fixed_number_of_times_whatever_its_contracts(
    now, admin_api, owner_org, beneficiary_admin, django_assert_num_queries, contracts
):
    machines = [MachineFactory(organisation=owner_org) for _ in range(3 * contracts)]
    text = _file(beneficiary_admin, machines, contracts)
    assert send(admin_api, text).status_code == 200  # applied: the preview below is all noop
    # The key, the recipients' accounts, the owner's named contacts, the contracts, their sharings with their machines'
    # links (one statement), the machines the owner may share, and the import's savepoint (taken and released): for
    # every contract at once.
    with django_assert_num_queries(8):
        response = send(admin_api, text, params="?dryRun=true")
    assert response.status_code == 200
    assert response.json()["data"]["summary"]["noop"] == 3 * contracts
    # New contracts: no sharings to read, and one query per contract for its overlap warnings.
    with django_assert_num_queries(7 + contracts):
        response = send(admin_api, text.replace("C-", "D-"), params="?dryRun=true")
    assert response.json()["data"]["summary"]["create"] == 3 * contracts


def test_a_body_of_another_type_answers_415_as_documented(now, admin_api):
    response = send(admin_api, "<contracts/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Contract.objects.exists()
