"""One e-mail per contract change (DESIGN §7): the recipient hears about an apply once, with every machine it touched,
in their language, with the data packs named — not one e-mail per machine. Sharings outside contracts keep their own
messages; a no-op or a dry run sends nothing."""

import pytest

from outbox.email import message_email
from outbox.models import Message
from sharing.messages import SharingMessage
from tests.factories import AdminFactory

from .conftest import DAY, NOW, contract_body, instant, put

pytestmark = pytest.mark.django_db


def contract_messages():
    return Message.objects.filter(kind="contract_changed").order_by("key")


def test_an_apply_of_three_machines_is_one_email_listing_them(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:3]))
    assert not Message.objects.filter(kind__in=SharingMessage.values).exists()
    (message,) = contract_messages()
    assert message.recipient == beneficiary_admin.email
    email = message_email(message)
    assert email.subject == "Contract “CTR-1” from Rent & Go: machines updated"
    for machine in machines[:3]:
        assert f"  - {machine}: shared, from " in email.body
    assert "Data packs: Essential, Usage hours" in email.body
    html = email.alternatives[0][0]
    assert html.count("<li>") == 3


def test_the_email_speaks_the_recipients_language(now, admin_api, machines, beneficiary_admin):
    beneficiary_admin.language = "fr"
    beneficiary_admin.save(update_fields=["language"])
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    put(admin_api, "CTR-1", contract_body(machines[:2], endDate=instant(NOW + 60 * DAY)))
    first, second = (message_email(message) for message in contract_messages())
    assert first.subject == "Contrat «\u00a0CTR-1\u00a0» de Rent & Go\u00a0: machines mises à jour"
    assert first.body.count(": partagée, du ") == 2
    assert "Packs de données\u00a0: Essentiel, Heures d’utilisation" in first.body
    assert second.body.count(": modifiée, du ") == 2


def test_a_noop_and_a_dry_run_send_nothing(now, admin_api, machines, beneficiary_admin):
    body = contract_body(machines[:2])
    put(admin_api, "CTR-1", body)
    put(admin_api, "CTR-1", body)
    put(admin_api, "CTR-1", contract_body(machines), params={"dryRun": "true"})
    assert contract_messages().count() == 1


def test_no_email_when_the_contracts_notifications_are_off(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:2], notificationEnabled=False))
    assert not Message.objects.exists()


def test_a_sharing_outside_contracts_keeps_its_own_email(now, admin_api, machines, beneficiary_admin):
    response = admin_api.post(
        "sharings",
        {"assetIds": [str(machines[0].pk)], "recipient": beneficiary_admin.email, "startDate": instant(NOW + DAY)},
    )
    assert response.status_code == 201
    assert list(Message.objects.values_list("kind", flat=True)) == [SharingMessage.CREATED]


def test_an_unknown_recipient_is_invited_in_the_same_email(now, admin_api, machines):
    put(
        admin_api,
        "CTR-1",
        contract_body(machines[:2], recipient="new@nowhere.example", recipientOrganisationName="Nowhere Ltd"),
    )
    (message,) = contract_messages()
    body = message_email(message).body
    assert "create your account" in body
    assert "email=new%40nowhere.example" in body


def test_a_move_to_another_organisation_tells_the_old_recipient_the_machines_are_no_longer_shared(
    now, admin_api, machines, beneficiary_admin, outsider_org
):
    newcomer = AdminFactory(organisation=outsider_org, email="site@quarry.example")
    beneficiary_admin.language = "fr"
    beneficiary_admin.save(update_fields=["language"])
    put(admin_api, "CTR-1", contract_body(machines[:2]))
    response = put(admin_api, "CTR-1", contract_body(machines[:2], recipient=newcomer.email))
    assert response.json()["data"]["summary"] == {
        "create": 2,
        "update": 0,
        "stop": 0,
        "delete": 2,
        "noop": 0,
        "conflict": 0,
    }
    withdrawn = Message.objects.get(kind="contract_withdrawn")
    assert withdrawn.recipient == beneficiary_admin.email
    email = message_email(withdrawn)  # in the old recipient's language
    assert email.to == [beneficiary_admin.email]
    assert email.subject == (
        "Contrat «\u00a0CTR-1\u00a0» de Rent & Go\u00a0: machines qui ne sont plus partagées avec vous"
    )
    for machine in machines[:2]:
        assert f"  - {machine}\n" in email.body
    assert "CTR-1" in email.body
    assert email.alternatives[0][0].count("<li>") == 2
    # The new recipient hears of its two machines once, and nothing of the ones removed from the other organisation.
    new = contract_messages().get(recipient=newcomer.email)
    body = message_email(new).body
    assert body.count(": shared, from ") == 2
    assert "removed" not in body
    assert contract_messages().filter(recipient=beneficiary_admin.email).count() == 1  # the first apply's


def test_a_contact_change_in_the_same_organisation_tells_both_people(
    now, admin_api, machines, beneficiary_admin, beneficiary_org
):
    colleague = AdminFactory(organisation=beneficiary_org, email="site@buildco.example")
    put(admin_api, "CTR-1", contract_body(machines[:3]))
    response = put(admin_api, "CTR-1", contract_body(machines[:3], recipient=colleague.email))
    assert response.json()["data"]["summary"]["update"] == 3
    (withdrawn,) = Message.objects.filter(kind="contract_withdrawn")
    email = message_email(withdrawn)
    assert email.to == [beneficiary_admin.email]
    assert email.subject == "Contract “CTR-1” from Rent & Go: machines no longer shared with you"
    assert "Rent & Go no longer shares these machines with you under the contract “CTR-1”:" in email.body
    for machine in machines[:3]:
        assert f"  - {machine}\n" in email.body
    new = message_email(contract_messages().get(recipient=colleague.email))
    assert new.to == [colleague.email]
    assert new.body.count(": shared, from ") == 3


def test_no_old_recipient_email_when_the_recipient_stays(now, admin_api, machines, beneficiary_admin):
    put(admin_api, "CTR-1", contract_body(machines[:3]))
    put(admin_api, "CTR-1", contract_body(machines[:2]))  # a machine leaves: the same recipient hears of it
    put(admin_api, "CTR-1", contract_body(machines[:2], status="completed"))
    assert not Message.objects.filter(kind="contract_withdrawn").exists()
    assert contract_messages().count() == 3
