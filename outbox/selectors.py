"""Reads of an organisation's outbox: the messages that speak for it."""

from django.db.models import QuerySet

from .models import Message, MessageStatus


def messages_of(organisation) -> QuerySet[Message]:
    return Message.objects.filter(organisation=organisation)


def messages_failed(organisation) -> QuerySet[Message]:
    """The organisation's messages that could not be sent, newest first, for its admins to retry."""
    return messages_of(organisation).filter(status=MessageStatus.FAILED).order_by("-created_at")
