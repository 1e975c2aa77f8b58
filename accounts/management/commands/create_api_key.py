"""`python manage.py create_api_key --organisation SLUG --name NAME [--role viewer]`: print a new API key, for
scripts and operations. The key is shown this once; only its hash is stored."""

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import Actor
from accounts.models import ApiKeyRole, Organisation
from accounts.services import api_key_create
from hiboo_connect.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key for an organisation and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="The organisation's slug.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'ERP sync'.")
        parser.add_argument("--role", choices=ApiKeyRole.values, default=ApiKeyRole.ADMIN)

    def handle(self, *args, organisation, name, role, **options):
        try:
            owner = Organisation.objects.get(slug=organisation)
        except Organisation.DoesNotExist:
            slugs = ", ".join(Organisation.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(f"No organisation with the slug {organisation!r}. Known: {slugs or 'none'}.") from None
        try:
            api_key, clear_key = api_key_create(actor=Actor.system(), organisation=owner, name=name, role=role)
        except DomainError as error:
            raise CommandError(error.message) from None
        # The key alone on stdout, so that KEY=$(python manage.py create_api_key ...) works; the rest on stderr.
        self.stderr.write(f"Created {api_key.role} key {api_key.name!r} ({api_key.prefix}) for {owner.name}.")
        self.stdout.write(clear_key)
