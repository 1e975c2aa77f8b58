"""Reads of an organisation's outbox: the messages that speak for it."""

from django.db.models import QuerySet

from .models import Channel, Message, MessageStatus


def messages_of(organisation) -> QuerySet[Message]:
    return Message.objects.filter(organisation=organisation)


def messages_failed(organisation) -> QuerySet[Message]:
    """The organisation's messages that could not be sent, newest first, for its admins to retry."""
    # E-mails only: webhook deliveries are shown, and sent again, on the webhooks page.
    return messages_of(organisation).filter(status=MessageStatus.FAILED, channel=Channel.EMAIL).order_by("-created_at")
