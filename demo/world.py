"""The demo's organisations, people, workspaces, machines and sharings, created through the services.

Sharings that started and ended in the past are made by replaying their history: each moment in turn — a contract is
signed, it starts, it is extended, the machine comes back early — is handed to the services as their `now`, so they
run as they would have then, and the statuses, the audit trail and the received machines are what real use leaves."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.utils.text import slugify

from accounts.actors import Actor
from accounts.models import Organisation, Role, User
from accounts.services import organisation_create
from fleet.data_packs import DataPack
from fleet.models import Machine, Workspace
from fleet.selectors import machines_owned_by, workspaces_of
from fleet.services import machine_create, workspace_create
from hiboo_connect.errors import InvalidInput
from sharing.selectors import received_machines_of, sharings_outgoing
from sharing.services import (
    received_machine_update,
    sharing_create,
    sharing_lifecycle_run,
    sharing_stop,
    sharing_update,
    sharings_attach_beneficiary,
)

from .catalogue import (
    CONTRACTOR,
    DEMO_PASSWORD,
    FIRST_MACHINES,
    FLEET_MIX,
    HOME_SITES,
    MODELS,
    ORGANISATIONS,
    OWNER_PATTERN,
    QUARRY,
    RENTAL,
    RENTAL_GROUPS,
    SITES,
    YEAR_LETTERS,
    YEARS,
)
from .telemetry import DEMO_SEED, LOCAL, DemoMachine

# --- people ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    organisation: str
    email: str
    first_name: str
    last_name: str
    role: str
    #: Joins later, by accepting an invitation the rental company sent before the account existed.
    joins_by_invitation: bool = False


USERS = (
    DemoUser(RENTAL, "claire.martin@crestline-rental.example", "Claire", "Martin", Role.ADMIN),
    DemoUser(RENTAL, "lucas.bernard@crestline-rental.example", "Lucas", "Bernard", Role.MEMBER),
    DemoUser(CONTRACTOR, "sophie.dubois@batiroc.example", "Sophie", "Dubois", Role.ADMIN),
    DemoUser(CONTRACTOR, "hugo.petit@batiroc.example", "Hugo", "Petit", Role.MEMBER),
    DemoUser(QUARRY, "marc.lefevre@granitek.example", "Marc", "Lefèvre", Role.ADMIN),
    DemoUser(QUARRY, "julie.garnier@granitek.example", "Julie", "Garnier", Role.MEMBER, joins_by_invitation=True),
)
ADMIN_OF = {user.organisation: user.email for user in USERS if user.role == Role.ADMIN}
LANGUAGES = {RENTAL: "en", CONTRACTOR: "fr", QUARRY: "fr"}


def _ensure_user(spec: DemoUser, organisation: Organisation | None, *, now: dt.datetime) -> tuple[User, bool]:
    user = User.objects.filter(email=spec.email).select_related("organisation").first()
    created = user is None
    if user is None:
        user = User.objects.create_user(
            spec.email,
            DEMO_PASSWORD,
            first_name=spec.first_name,
            last_name=spec.last_name,
            organisation=organisation,
            role=spec.role if organisation is not None else Role.MEMBER,
            date_joined=now,
        )
    # The demo accounts can log in at once: their e-mail address counts as verified.
    EmailAddress.objects.get_or_create(user=user, email=spec.email, defaults={"verified": True, "primary": True})
    return user, created


def ensure_organisations(*, now: dt.datetime) -> tuple[dict[str, Organisation], int]:
    """The three organisations with their admin (through organisation_create) and their members, as of `now`."""
    organisations, created = {}, 0
    for spec in ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=slugify(spec.name)).first()
        if organisation is None:
            admin, _ = _ensure_user(next(user for user in USERS if user.email == ADMIN_OF[spec.key]), None, now=now)
            organisation = organisation_create(
                name=spec.name, admin=admin, timezone="Europe/Paris", language=LANGUAGES[spec.key], now=now
            )
            created += 1
        organisations[spec.key] = organisation
    for user_spec in USERS:
        if not user_spec.joins_by_invitation:
            _ensure_user(user_spec, organisations[user_spec.organisation], now=now)
    return organisations, created


def ensure_late_users(organisations: dict[str, Organisation], *, now: dt.datetime) -> None:
    for spec in USERS:
        if spec.joins_by_invitation:
            _ensure_user(spec, organisations[spec.organisation], now=now)


def admin_actor(organisation_key: str) -> Actor:
    return Actor.for_user(User.objects.select_related("organisation").get(email=ADMIN_OF[organisation_key]))


# --- workspaces and machines -----------------------------------------------------------------------------------------


def ensure_workspaces(organisations: dict[str, Organisation], *, now: dt.datetime) -> dict[tuple[str, str], Workspace]:
    """Depots and sites as workspaces, and at the rental company groups by kind of machine."""
    wanted = {key: [site.name for site in SITES.values() if site.workspace_of == key] for key in organisations}
    wanted[RENTAL] += list(RENTAL_GROUPS)
    workspaces = {}
    for key, names in wanted.items():
        organisation = organisations[key]
        existing = {workspace.name: workspace for workspace in workspaces_of(organisation)}
        actor = None
        for name in names:
            if name not in existing:
                actor = actor or admin_actor(key)
                existing[name] = workspace_create(actor=actor, name=name, now=now)
            workspaces[key, name] = existing[name]
    return workspaces


@dataclass(frozen=True)
class MachineSpec:
    index: int
    owner: str
    model_key: str
    year: int
    serial_number: str
    pin: str

    @property
    def model(self):
        return MODELS[self.model_key]

    @property
    def home_site(self) -> str:
        if self.owner == QUARRY:
            return "crushing_plant" if self.model.category in ("wheel_loader", "generator") else "north_pit"
        sites = HOME_SITES[self.owner]
        return sites[self.index % len(sites)]


def machine_specs(count: int) -> list[MachineSpec]:
    """The first `count` demo machines. Machine i depends only on i, so a bigger demo extends a smaller one."""
    specs = []
    for index in range(count):
        rng = random.Random(DEMO_SEED * 31 + index)
        if index < len(FIRST_MACHINES):
            owner, model_key = FIRST_MACHINES[index]
        else:
            owner = OWNER_PATTERN[index % len(OWNER_PATTERN)]
            mix = FLEET_MIX[owner]
            model_key = rng.choices(list(mix), weights=list(mix.values()))[0]
        model = MODELS[model_key]
        year = rng.randint(*YEARS[owner])
        seq = 10_000 + (index * 7919) % 90_000  # unique per index, not in order
        pin = ""
        if model.wmi:
            code = "".join(character for character in model.model.upper() if character.isalnum())[:5].rjust(5, "0")
            pin = f"{model.wmi}{code}{YEAR_LETTERS[year]}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{seq:07d}"
        specs.append(MachineSpec(index, owner, model_key, year, model.serial.format(seq=seq), pin))
    return specs


def ensure_machines(
    organisations: dict[str, Organisation],
    workspaces: dict[tuple[str, str], Workspace],
    count: int,
    *,
    now: dt.datetime,
) -> tuple[list[DemoMachine], int]:
    """Create the machines that are missing (a machine is known by its make and serial number)."""
    existing: dict[tuple[str, str], Machine] = {}
    for organisation in organisations.values():
        for owned in machines_owned_by(organisation):
            existing[owned.make, owned.serial_number] = owned
    machines, created = [], 0
    for spec in machine_specs(count):
        model = spec.model
        machine = existing.get((model.make, spec.serial_number))
        if machine is None:
            places = [SITES[spec.home_site].name]
            if spec.owner == RENTAL:
                places += [group for group, categories in RENTAL_GROUPS.items() if model.category in categories]
            try:
                machine = machine_create(
                    organisation=organisations[spec.owner],
                    make=model.make,
                    model=model.model,
                    serial_number=spec.serial_number,
                    category=model.category,
                    year=spec.year,
                    pin=spec.pin,
                    workspaces=[workspaces[spec.owner, name] for name in places],
                    now=now,
                )
            except InvalidInput:
                continue  # another organisation owns a machine with this serial number: not ours to touch
            created += 1
        machines.append(DemoMachine(machine, spec.index, spec.owner, model, spec.home_site))
    return machines, created


# --- sharings --------------------------------------------------------------------------------------------------------

Moment = tuple[int, float]  # (days before today, local hour); negative days are in the future

ALL_BUT_ACTIVITY = (
    DataPack.ESSENTIAL,
    DataPack.USAGE_HOURS,
    DataPack.ENERGY_AND_FUEL,
    DataPack.FAULT_CODES,
)
ESSENTIAL_AND_HOURS = (DataPack.ESSENTIAL, DataPack.USAGE_HOURS)


@dataclass(frozen=True)
class PlannedSharing:
    reference: str
    owner: str
    recipient: str  # an organisation key (its admin receives it), a demo user's e-mail or an outside e-mail
    machines: tuple[int, ...]  # positions in the owner's list of demo machines
    created: Moment
    start: Moment
    end: Moment | None
    recipient_organisation_name: str = ""
    stop: Moment | None = None
    extend_to: tuple[Moment, Moment] | None = None  # (when, new end)
    rename: tuple[Moment, str, str] | None = None  # (when, the beneficiary's name for the first machine, workspace)
    data_packs: tuple[str, ...] | None = None
    one_per_machine: bool = False
    properties: dict[str, str] = field(default_factory=dict)


def _rental_properties(customer: str, site: str, contract: str, order: str, project: str, account: str):
    return {
        "customer": customer,
        "site": site,
        "contract": contract,
        "purchaseOrder": order,
        "project": project,
        "accountNumber": account,
    }


BATIROC, GRANITEK, MOREAU = "Batiroc Construction", "Granitek Quarries", "Terrassements Moreau"

SHARINGS = (
    # Crestline (rental) → Batiroc (contractor)
    PlannedSharing(
        "CTR-104512",
        RENTAL,
        CONTRACTOR,
        (1, 2),
        created=(31, 16.5),
        start=(30, 7),
        end=(-30, 18),
        extend_to=((5, 10.25), (-45, 18)),
        rename=((29, 8.5), "Telehandler T-07", "Confluence housing site"),
        properties=_rental_properties(
            BATIROC, "Confluence housing site", "CTR-104512", "BAT-CMD-0412", "Lot B", "C-10482"
        ),
    ),
    PlannedSharing(
        "CTR-103877",
        RENTAL,
        CONTRACTOR,
        (0,),
        created=(61, 9),
        start=(60, 7),
        end=None,
        data_packs=ALL_BUT_ACTIVITY,
        rename=((58, 9), "Excavator Part-Dieu", "Part-Dieu tower site"),
        properties=_rental_properties(
            BATIROC, "Part-Dieu tower site", "CTR-103877", "BAT-CMD-0377", "Tour Part-Dieu", "C-10482"
        ),
    ),
    PlannedSharing(
        "CTR-104020",
        RENTAL,
        CONTRACTOR,
        (4,),
        created=(46, 15),
        start=(45, 7),
        end=(15, 18),
        properties=_rental_properties(
            BATIROC, "A480 widening, Grenoble", "CTR-104020", "BAT-CMD-0390", "A480", "C-10482"
        ),
    ),
    PlannedSharing(
        "CTR-104101",
        RENTAL,
        CONTRACTOR,
        (3,),
        created=(50, 11),
        start=(49, 7),
        end=(-10, 18),
        stop=(20, 14.5),
        properties=_rental_properties(
            BATIROC, "Part-Dieu tower site", "CTR-104101", "BAT-CMD-0395", "Tour Part-Dieu", "C-10482"
        ),
    ),
    PlannedSharing(
        "CTR-104733",
        RENTAL,
        "hugo.petit@batiroc.example",
        (5, 6),
        created=(2, 10),
        start=(-7, 7),
        end=(-37, 18),
        one_per_machine=True,
        properties=_rental_properties(
            BATIROC, "Confluence housing site", "CTR-104733", "BAT-CMD-0431", "Lot C", "C-10482"
        ),
    ),
    # Crestline → Granitek (quarry)
    PlannedSharing(
        "CTR-104588",
        RENTAL,
        QUARRY,
        (7, 8),
        created=(21, 10),
        start=(20, 7),
        end=(-40, 18),
        one_per_machine=True,
        properties=_rental_properties(GRANITEK, "North pit", "CTR-104588", "GQ-PO-2296", "Pit 2 stripping", "C-20117"),
    ),
    PlannedSharing(
        "CTR-103512",
        RENTAL,
        QUARRY,
        (9,),
        created=(81, 9),
        start=(80, 7),
        end=(50, 18),
        data_packs=ESSENTIAL_AND_HOURS,
        properties=_rental_properties(
            GRANITEK, "Crushing plant", "CTR-103512", "GQ-PO-2203", "Plant upkeep", "C-20117"
        ),
    ),
    PlannedSharing(
        "CTR-104377",
        RENTAL,
        "julie.garnier@granitek.example",  # no account yet: an invitation she accepts two days later
        (10,),
        created=(26, 9),
        start=(25, 7),
        end=(-20, 18),
        recipient_organisation_name=GRANITEK,
        properties=_rental_properties(GRANITEK, "North pit", "CTR-104377", "GQ-PO-2288", "Pit 2 stripping", "C-20117"),
    ),
    PlannedSharing(
        "CTR-104690",
        RENTAL,
        "site.manager@terrassements-moreau.example",
        (11,),
        created=(10, 9),
        start=(9, 7),
        end=(-20, 18),
        stop=(8, 12),
        recipient_organisation_name=MOREAU,
        properties={"customer": MOREAU, "contract": "CTR-104690", "site": "Valence logistics hub"},
    ),
    PlannedSharing(
        "CTR-104801",
        RENTAL,
        "j.moreau@terrassements-moreau.example",
        (12,),
        created=(3, 15),
        start=(1, 7),
        end=(-29, 18),
        recipient_organisation_name=MOREAU,
        properties={"customer": MOREAU, "contract": "CTR-104801", "site": "Valence logistics hub"},
    ),
    PlannedSharing(
        "CTR-104799",
        RENTAL,
        QUARRY,
        (13,),
        created=(1, 11),
        start=(-14, 7),
        end=(-44, 18),
        properties=_rental_properties(GRANITEK, "North pit", "CTR-104799", "GQ-PO-2320", "Pit 3 opening", "C-20117"),
    ),
    # The other way: the contractor and the quarry share their own machines.
    PlannedSharing(
        "BAT-LOAN-0031",
        CONTRACTOR,
        RENTAL,
        (0,),
        created=(12, 9),
        start=(10, 7),
        end=(-20, 18),
        properties={"project": "Joint lift, Part-Dieu", "purchaseOrder": "CR-PO-7781"},
    ),
    PlannedSharing(
        "BAT-LOAN-0027",
        CONTRACTOR,
        QUARRY,
        (1,),
        created=(41, 9),
        start=(40, 7),
        end=(12, 18),
        properties={"project": "Quarry access road", "purchaseOrder": "GQ-PO-2251"},
    ),
    PlannedSharing(
        "BAT-LOAN-0035",
        CONTRACTOR,
        QUARRY,
        (1,),
        created=(11, 9),
        start=(11, 7),
        end=None,
        data_packs=ESSENTIAL_AND_HOURS,
        properties={"project": "Quarry access road", "purchaseOrder": "GQ-PO-2309"},
    ),
    PlannedSharing(
        "BAT-INV-0002",
        CONTRACTOR,
        "chantier@paysages-durand.example",
        (0,),
        created=(6, 10),
        start=(5, 7),
        end=None,
        recipient_organisation_name="Paysages Durand",
        properties={"project": "Confluence landscaping"},
    ),
    PlannedSharing(
        "GQ-PO-2291",
        QUARRY,
        RENTAL,
        (0,),
        created=(35, 9),
        start=(34, 7),
        end=(-5, 18),
        stop=(15, 16),
        properties={"project": "Loader swap during overhaul", "contract": "GQ-PO-2291"},
    ),
    PlannedSharing(
        "GQ-PO-2318",
        QUARRY,
        CONTRACTOR,
        (0,),
        created=(4, 14),
        start=(-3, 7),
        end=(-17, 18),
        properties={"project": "A480 embankment", "contract": "GQ-PO-2318"},
    ),
    PlannedSharing(
        "GQ-PO-2240",
        QUARRY,
        CONTRACTOR,
        (0,),
        created=(70, 9),
        start=(69, 7),
        end=(40, 18),
        properties={"project": "A480 embankment", "contract": "GQ-PO-2240"},
    ),
)


class Timeline:
    """Actions at moments in the past, replayed in order, each given its moment as `now`."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = now.astimezone(LOCAL).date()
        self._events: list[tuple[dt.datetime, int, int, Callable[[dt.datetime], object]]] = []

    def at(self, moment: Moment) -> dt.datetime:
        days, hour = moment
        day = self.today - dt.timedelta(days=days)
        minutes = round(hour * 60)
        local = dt.datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=LOCAL)
        return local.astimezone(dt.UTC)

    def add(self, when: dt.datetime, action: Callable[[dt.datetime], object], *, priority: int = 0) -> None:
        if when <= self.now:
            self._events.append((when, priority, len(self._events), action))

    def replay(self) -> None:
        for when, _priority, _order, action in sorted(self._events, key=lambda event: event[:3]):
            action(when)


def _schedule(
    timeline: Timeline, plan: PlannedSharing, *, fleet: list, organisations: dict[str, Organisation], created: list
) -> None:
    """Put a planned sharing's history on the timeline: its creation, the lifecycle runs at its start and end, and
    its stop, extension or the beneficiary's renaming when the plan has them."""
    plan_machines = list({fleet[position % len(fleet)].pk: None for position in plan.machines})
    recipient = ADMIN_OF[plan.recipient] if plan.recipient in organisations else plan.recipient
    made: list = []

    def create(now):
        made.extend(
            sharing_create(
                actor=admin_actor(plan.owner),
                machine_ids=plan_machines,
                recipient_email=recipient,
                recipient_organisation_name=plan.recipient_organisation_name,
                reference=plan.reference,
                properties=plan.properties,
                data_packs=plan.data_packs,
                start_at=timeline.at(plan.start),
                end_at=timeline.at(plan.end) if plan.end else None,
                one_per_machine=plan.one_per_machine,
                now=now,
            )
        )
        created.extend(made)

    timeline.add(timeline.at(plan.created), create)
    for moment in (plan.start, plan.end):
        if moment is not None:
            timeline.add(timeline.at(moment), lambda now: sharing_lifecycle_run(now=now), priority=1)
    if plan.stop:

        def stop(now):
            for sharing in made:
                sharing_stop(actor=admin_actor(plan.owner), sharing=sharing, now=now)

        timeline.add(timeline.at(plan.stop), stop)
    if plan.extend_to:
        when, new_end = plan.extend_to

        def extend(now):
            for sharing in made:
                sharing_update(
                    actor=admin_actor(plan.owner), sharing=sharing, changes={"end_at": timeline.at(new_end)}, now=now
                )

        timeline.add(timeline.at(when), extend)
    if plan.rename:
        _schedule_rename(timeline, plan, machine_id=plan_machines[0], organisations=organisations)


def _schedule_rename(
    timeline: Timeline, plan: PlannedSharing, *, machine_id, organisations: dict[str, Organisation]
) -> None:
    """The beneficiary names the first machine it received its own way and places it in one of its workspaces."""
    assert plan.rename is not None
    when, name, workspace_name = plan.rename

    def rename(now):
        beneficiary = organisations[plan.recipient]
        received = received_machines_of(beneficiary).filter(machine_id=machine_id).first()
        if received is None:
            return
        workspaces = workspaces_of(beneficiary).filter(name=workspace_name)
        received_machine_update(
            actor=admin_actor(plan.recipient), received_machine=received, name=name, workspaces=workspaces, now=now
        )

    timeline.add(timeline.at(when), rename)


def ensure_sharings(
    organisations: dict[str, Organisation], machines: list[DemoMachine], now: dt.datetime
) -> tuple[int, int]:
    """Replay the history of every planned sharing whose reference its owner does not have yet. Returns (sharings
    created, planned sharings already there)."""
    fleets = {key: [machine.machine for machine in machines if machine.owner == key] for key in organisations}
    timeline = Timeline(now)
    created: list = []
    existing = 0

    for plan in SHARINGS:
        owner = organisations[plan.owner]
        if sharings_outgoing(owner).filter(reference=plan.reference).exists():
            existing += 1
            continue
        fleet = fleets[plan.owner]
        if fleet:
            _schedule(timeline, plan, fleet=fleet, organisations=organisations, created=created)

    # Julie Garnier signs up two days after the rental company invited her, and her pending sharing attaches.
    late = next(user for user in USERS if user.joins_by_invitation)
    if not User.objects.filter(email=late.email).exists():

        def join(now):
            user, _ = _ensure_user(late, organisations[late.organisation], now=now)
            sharings_attach_beneficiary(actor=Actor.for_user(user), user=user, now=now)

        timeline.add(timeline.at((24, 10.5)), join)

    timeline.replay()
    return len(created), existing
