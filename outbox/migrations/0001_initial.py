"""The outbox's table, generic over what a message is about, and the rows of the sharing app's notification outbox
copied into it (a sharing or a colleague invitation becomes a subject type and id). Sharing's migration 0008 then
drops the old table."""

import django.db.models.deletion
import outbox.kinds
import uuid
from django.db import migrations, models

# The rows move in one statement per direction, on SQLite and PostgreSQL alike (the id, subject and JSON columns have
# the same types on both sides of each backend).
COPY_FORWARD = """
INSERT INTO outbox_message (
    id, "key", organisation_id, kind, channel, subject_type, subject_id, recipient, language, time_zone, context,
    status, attempts, last_error, next_attempt_at, sent_at, created_at
)
SELECT
    id, "key", organisation_id, message, 'email',
    CASE WHEN sharing_id IS NOT NULL THEN 'sharing' ELSE 'colleague_invitation' END,
    COALESCE(sharing_id, colleague_invitation_id),
    to_email, language, time_zone, context, status, attempts, last_error, next_attempt_at, sent_at, created_at
FROM sharing_notification
"""

# Back to the old table: only what it can hold (a subject that still exists; its foreign keys demand it).
COPY_BACK = """
INSERT INTO sharing_notification (
    id, "key", organisation_id, sharing_id, colleague_invitation_id, message, to_email, language, time_zone, context,
    status, attempts, last_error, next_attempt_at, sent_at, created_at
)
SELECT
    id, "key", organisation_id,
    CASE WHEN subject_type = 'sharing' THEN subject_id END,
    CASE WHEN subject_type = 'colleague_invitation' THEN subject_id END,
    kind, recipient, language, time_zone, context, status, attempts, last_error, next_attempt_at, sent_at, created_at
FROM outbox_message
WHERE (subject_type = 'sharing' AND subject_id IN (SELECT id FROM sharing_sharing))
   OR (subject_type = 'colleague_invitation' AND subject_id IN (SELECT id FROM accounts_colleagueinvitation))
"""


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_colleague_invitations'),
        ('sharing', '0005_auditevent_to_audit_app'),
    ]

    operations = [
        migrations.CreateModel(
            name='Message',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('key', models.CharField(max_length=200, unique=True, verbose_name='key')),
                ('kind', models.CharField(choices=outbox.kinds.kind_choices, max_length=40, verbose_name='message')),
                ('channel', models.CharField(choices=[('email', 'E-mail')], default='email', max_length=10, verbose_name='channel')),
                ('subject_type', models.CharField(max_length=40, verbose_name='subject type')),
                ('subject_id', models.UUIDField(verbose_name='subject id')),
                ('recipient', models.CharField(max_length=254, verbose_name='to')),
                ('language', models.CharField(max_length=2, verbose_name='language')),
                ('time_zone', models.CharField(max_length=64, verbose_name='time zone')),
                ('context', models.JSONField(blank=True, default=dict, verbose_name='context')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent'), ('failed', 'Failed')], default='pending', max_length=10, verbose_name='status')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('last_error', models.TextField(blank=True, verbose_name='last error')),
                ('next_attempt_at', models.DateTimeField(help_text='While a worker sends, this is pushed ahead so nobody else claims the row.', verbose_name='next attempt')),
                ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                ('created_at', models.DateTimeField(verbose_name='created at')),
                ('organisation', models.ForeignKey(help_text="The organisation the message speaks for (a sharing's owner, an inviting organisation), whose admins see and retry failed notifications.", on_delete=django.db.models.deletion.CASCADE, related_name='outbox_messages', to='accounts.organisation', verbose_name='organisation')),
            ],
            options={
                'verbose_name': 'notification',
                'verbose_name_plural': 'notifications',
                'ordering': ['-created_at'],
                'indexes': [models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='outbox_due'), models.Index(fields=['organisation', 'status', 'created_at'], name='outbox_organisation_status'), models.Index(fields=['subject_type', 'subject_id'], name='outbox_by_subject')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'sent', 'failed'])), name='outbox_status_valid')],
            },
        ),
        migrations.RunSQL(COPY_FORWARD, COPY_BACK, elidable=True),
    ]
