"""Users, organisations, roles, the address book of recipients, API keys, idempotency records and
colleague invitations."""

import datetime as dt
import secrets
import uuid
import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

#: Expiry reminders (DESIGN §9): days before a sharing's end, by default and at most.
REMINDER_DAYS_DEFAULT = 7
REMINDER_DAYS_MAX = 90

TIMEZONE_CHOICES = sorted((name, name) for name in zoneinfo.available_timezones())


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Paris")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    # How many days before a sharing ends the organisation is reminded (its admins for what it shares, the recipient
    # for what it receives); empty: never (DESIGN §9). "Ending soon" in its share centre means the same days.
    reminder_days = models.PositiveSmallIntegerField(
        _("reminder before the end (days)"), null=True, blank=True, default=REMINDER_DAYS_DEFAULT
    )
    created_at = models.DateTimeField(_("created at"), default=django_timezone.now, editable=False)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reminder_days__isnull=True)
                | models.Q(reminder_days__gte=1, reminder_days__lte=REMINDER_DAYS_MAX),
                name="organisation_reminder_days_range",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def ending_soon_days(self) -> int:
        """What "ending soon" spans for this organisation: its reminder's days, or the default when it has none."""
        return self.reminder_days or REMINDER_DAYS_DEFAULT


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person. E-mail is the login; a user belongs to at most one organisation (none only between sign-up and
    naming their organisation)."""

    username = None  # type: ignore[assignment]  # e-mail is the login: the user has no username
    email = models.EmailField(_("e-mail address"), unique=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        related_name="users",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    language = models.CharField(
        _("language"),
        max_length=2,
        choices=Language.choices,
        blank=True,
        help_text=_("Empty: the organisation's language."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()  # type: ignore[assignment,misc]  # ours: e-mail logins, not AbstractUser's usernames

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_organisation_admin(self) -> bool:
        return self.organisation_id is not None and self.role == Role.ADMIN

    @property
    def preferred_language(self) -> str:
        if self.language:
            return self.language
        if self.organisation is not None:
            return self.organisation.language
        return Language.ENGLISH


class Contact(models.Model):
    """An entry in an owner's address book of recipients."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("address book of"), related_name="contacts", on_delete=models.CASCADE
    )
    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation_name = models.CharField(_("organisation name"), max_length=200, blank=True)
    known_organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("known organisation"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "email"], name="accounts_contact_unique_email"),
        ]

    def __str__(self):
        return self.email


class ApiKeyRole(models.TextChoices):
    ADMIN = "admin", _("Admin (read and write)")
    VIEWER = "viewer", _("Viewer (read only)")


class ApiKey(models.Model):
    """An organisation's key to the public API. Only a hash of the secret is stored: the clear key is shown once,
    when it is created. The public prefix is part of the key and identifies it in lists and logs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), related_name="api_keys", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("role"), max_length=10, choices=ApiKeyRole.choices, default=ApiKeyRole.ADMIN)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix})"

    @property
    def is_admin(self) -> bool:
        return self.role == ApiKeyRole.ADMIN

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class IdempotencyRecord(models.Model):
    """An API write made with an Idempotency-Key header: claimed (a unique row) before the write runs, so two
    concurrent requests with one key never both execute, then completed with the response a retry gets back."""

    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("API key"), related_name="idempotency_records", on_delete=models.CASCADE
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64, help_text=_("SHA-256 of the request."))
    state = models.CharField(_("state"), max_length=12, choices=IdempotencyState.choices)
    claimed_at = models.DateTimeField(_("claimed at"))
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="accounts_idempotency_unique_key"),
        ]

    def __str__(self):
        return f"{self.key} ({self.state})"


def new_invitation_token() -> str:
    return secrets.token_urlsafe(32)


class ColleagueInvitation(models.Model):
    """An admin's invitation to a colleague to join the organisation with a role. The e-mailed link carries the
    token; whoever signs up through it with that e-mail joins this organisation instead of founding their own."""

    VALIDITY = dt.timedelta(days=14)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        related_name="colleague_invitations",
        on_delete=models.CASCADE,
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        User,
        verbose_name=_("invited by"),
        related_name="+",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("colleague invitation")
        verbose_name_plural = _("colleague invitations")
        ordering = ["-created_at"]
        constraints = [
            # Inviting the same address again refreshes the pending invitation rather than adding a second one.
            models.UniqueConstraint(
                fields=["organisation", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="accounts_invitation_one_pending_per_email",
            ),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="accounts_invitation_role_valid"),
        ]

    def __str__(self):
        return f"{self.email} → {self.organisation}"

    def is_open_at(self, now) -> bool:
        """Can still be accepted: not accepted yet and not expired."""
        return self.accepted_at is None and now < self.expires_at
