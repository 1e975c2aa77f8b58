"""The failed-notifications page says why each e-mail failed, accurately and in words (issue 9, item 10): a mail
server's refusal after one attempt is not "after several attempts", and its answer is text, not a Python bytes repr."""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from accounts.actors import Actor
from outbox.delivery import describe_error
from outbox.models import Message, MessageStatus
from sharing.services import sharing_create

NOW = dt.datetime(2026, 7, 12, 9, 0, tzinfo=dt.UTC)
LIST_URL = "/sharings/notifications/failed/"


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses the recipient for good (5xx), its answer in bytes as smtplib gives it."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({email_messages[0].to[0]: (550, b"5.1.1 No such user")})


@pytest.fixture
def refused(frozen, settings, owner_admin, machine, beneficiary_admin, django_capture_on_commit_callbacks):
    """A sharing whose notification the mail server refused at the first attempt."""
    frozen(NOW)
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        sharing_create(
            actor=Actor.for_user(owner_admin),
            machine_ids=[machine.pk],
            recipient_email=beneficiary_admin.email,
            start_at=NOW + dt.timedelta(days=1),
        )
    (message,) = Message.objects.all()
    return message


@pytest.fixture
def page(client, owner_admin):
    def get(language="en"):
        client.force_login(owner_admin)
        return client.get(LIST_URL, headers={"Accept-Language": language}).content.decode()

    return get


def test_a_refusal_fails_after_one_attempt(refused):
    assert (refused.status, refused.attempts) == (MessageStatus.FAILED, 1)


def test_the_page_says_the_server_refused_it_after_one_attempt(refused, page):
    assert "Refused by the mail server after 1 attempt; its answer is below." in page()


def test_the_page_does_not_speak_of_several_attempts(refused, page):
    assert "several attempts" not in page()


def test_the_page_shows_the_servers_answer_as_text(refused, page):
    assert "550 5.1.1 No such user" in page()


def test_the_page_shows_no_bytes_repr(refused, page):
    assert "b&#x27;" not in page()


def test_the_page_says_so_in_french(refused, page):
    assert "Refusé par le serveur de messagerie après 1 tentative ; sa réponse figure ci-dessous." in page("fr")


def test_a_message_that_ran_out_of_attempts_says_how_many(refused, page):
    Message.objects.update(attempts=8, last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    assert "Not delivered after 8 attempts; the last one failed with the error below." in page()


def test_ran_out_of_attempts_in_french(refused, page):
    Message.objects.update(attempts=8)
    assert "Non remis après 8 tentatives ; la dernière a échoué avec l’erreur ci-dessous." in page("fr")


def test_a_refused_recipient_is_described_in_text():
    error = smtplib.SMTPRecipientsRefused({"site@buildco.example": (550, b"5.1.1 No such user")})
    assert describe_error(error) == "SMTPRecipientsRefused: site@buildco.example: 550 5.1.1 No such user"


def test_a_server_answer_is_described_in_text():
    error = smtplib.SMTPSenderRefused(553, b"5.7.1 Sender address rejected", "no-reply@localhost")
    assert describe_error(error) == "SMTPSenderRefused: 553 5.7.1 Sender address rejected"


def test_a_lost_connection_is_described_as_is():
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    assert describe_error(error) == "SMTPServerDisconnected: Connection unexpectedly closed"


def test_nothing_was_sent(refused):
    assert mail.outbox == []
