"""One e-mail per contract change (DESIGN §7): the recipient hears about an apply once, with every machine it touched,
in their language, with the data packs named — not one e-mail per machine. Sharings outside contracts keep their own
messages; a no-op or a dry run sends nothing."""

import pytest

from outbox.email import message_email
from outbox.models import Message
from sharing.messages import SharingMessage

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
