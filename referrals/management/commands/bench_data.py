"""A large, realistic, reproducible data set for the load benchmark (PostgreSQL).

Defaults: 1,000,000 referrals, 20,000 partners, 200 reps in 20 teams (each with
a manager), 5,000,000 activities, every referral's stage history and its
thank-yous, spread over the last 3 years; and for about a third of the
customers, what was promised and delivered to them (outcomes) and the asks
for referrals that followed, over the last 2 years (Ready to ask). Rows are
streamed into PostgreSQL with COPY, in chunks, with ids assigned here so no
row is read back.
"""

import io
import itertools
import random
import time
import unicodedata
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from faker.providers.company import en_US as company_en
from faker.providers.lorem import en_US as lorem_en
from faker.providers.person import de_DE as person_de
from faker.providers.person import en_US as person_en
from faker.providers.person import es_ES as person_es
from faker.providers.person import fr_FR as person_fr

from accounts.models import Team, User
from partners.asking import SATISFIED_FROM
from partners.fit import Focus, fit
from partners.models import Answer, Ask, TeamFocus
from partners.services import OUTCOME_FIELDS
from referrals.criteria import assess
from referrals.models import Referral, Stage
from referrals.services import milestone_positions, referral_enter
from thanks.models import AskEmail, ThankYouMoment

PASSWORD = "bench"
CHUNK = 50_000
TABLES = [
    "partners_givenreferral",
    "thanks_askemail",
    "partners_ask",
    "partners_outcome",
    "referrals_touchpoint",
    "referrals_activity",
    "referrals_stagechange",
    "referrals_referral",
    "partners_partner",
]
KINDS = (["customer"] * 5) + (["partner"] * 3) + (["network"] * 2) + ["other"]
# Whom teams and referral partners serve (issue 27's fit): each team sells
# to one of FOCUSES; a partner serves a mix, so fits range from none to strong.
ROLES = [
    "HR director",
    "Head of people",
    "CFO",
    "Office manager",
    "IT director",
    "Plant manager",
]
INDUSTRIES = ["Software", "Healthcare", "Retail", "Manufacturing", "Finance"]
SIZES = [(10, 50), (50, 500), (200, 2000), (1000, None)]
FOCUSES = [
    ("HR director, Head of people", "Software, Healthcare", 50, 500),
    ("CFO, Office manager", "Retail, Finance", 10, 200),
    ("IT director", "Software, Manufacturing", 200, 2000),
]
LOST = ["Chose a competitor", "No budget this year", "Went quiet", "Not a fit"]
# Referral criteria (issue 26): most referrals assessed against four
# criteria's weights, as the demo data's are; the label and score as the
# one rule (referrals.criteria.assess) gives them. The answers are not
# written: the pages the bench times read the label.
CRITERIA_WEIGHTS = (3, 2, 3, 1)
ASSESSED_SHARE = 0.8
NOTES = [
    "Left a voicemail.",
    "Good call, sending a proposal.",
    "Met for coffee.",
    "Emailed a case study.",
]
# Ready to ask (partners.asking, DOMAIN.md section 5). About a third of the
# customers have one to three outcomes over the last OUTCOME_DAYS; half of
# those customers were a won referral's prospect (the first outcome recorded
# from that referral, as referral_outcome_record does). Most outcomes are
# delivered as promised; some late, short, over budget or rated low; a few
# overdue. After an outcome delivered as promised the rep often asks, at
# most once in ASK_GAP_DAYS: more than the rule's 90 days, so no customer is
# asked twice within them. A few customers asked not to be asked.
OUTCOME_DAYS = 730
OUTCOME_SHARE = 1 / 3
FROM_A_WON_REFERRAL = 0.5
OUTCOMES_EACH = ((1, 2, 3), (4, 3, 3))  # how many, and how often
LATE, SHORT, OVER_BUDGET = 0.08, 0.05, 0.05
# Of the outcomes promised in the last OVERDUE_DAYS: not delivered yet.
OVERDUE_SHARE, OVERDUE_DAYS = 0.15, 45
# Of those delivered in the last UNRATED_DAYS: satisfaction not asked yet.
UNRATED_SHARE, UNRATED_DAYS = 0.2, 30
SATISFACTION = ((5, 4, 3, 2, 1), (62, 32, 4, 1, 1))
ASKED_SHARE = 0.6
ASK_GAP_DAYS = (120, 180)
DO_NOT_ASK_SHARE = 0.03
# What the app records of an outcome (partners.services.OUTCOME_FIELDS), in
# its table's order, between the keys and who recorded it when.
OUTCOME_COLUMNS = [
    "id",
    "partner_id",
    "referral_id",
    *OUTCOME_FIELDS,
    "recorded_by_id",
    "created_at",
    "updated_at",
]
ASK_EMAIL_COLUMNS = [
    "id",
    "ask_id",
    "source_id",
    "status",
    "due_at",
    "attempts",
    "claimed_at",
    "last_error",
    "sent_at",
    "subject",
    "body_text",
    "body_html",
    "note",
    "created_at",
    "message_token",
]
# An email ask goes only to a customer who takes email (thanks.ask_record).
CHANNELS = {
    True: ((Ask.Channel.EMAIL, Ask.Channel.IN_PERSON, Ask.Channel.PHONE), (5, 3, 2)),
    False: ((Ask.Channel.IN_PERSON, Ask.Channel.PHONE), (3, 2)),
}
PROMISES = [
    "Migrate their 40 mailboxes to the new system",
    "Onboard the finance team of 12",
    "Deliver the quarterly audit report",
    "Set up payroll for the new office",
    "Cut month-end close from ten days to five",
    "Roll out the new intranet to three sites",
    "Train the support team on the new tools",
]
ASK_NOTES = [
    "",
    "",
    "Handed them our How to refer us card.",
    "They will think of two or three names.",
    "Mentioned a colleague at their old firm.",
]


class Names:
    """Real-looking people and companies, drawn as often as they are met
    (Faker's name lists and their frequencies, with German, Spanish and
    French surnames for accents), so that searching a surname finds about
    what it would in a real book of contacts."""

    SHARE_ABROAD = 0.15  # of surnames from the German, Spanish, French lists

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.firsts, self.first_weights = self._cumulative(
            person_en.Provider.first_names
        )
        home = self._weighted(person_en.Provider.last_names)
        abroad = {}
        for provider in (person_de.Provider, person_es.Provider, person_fr.Provider):
            abroad.update(self._weighted(provider.last_names))
        scale = sum(home.values()) * self.SHARE_ABROAD / sum(abroad.values())
        lasts = {**home, **{name: w * scale for name, w in abroad.items()}}
        self.lasts, self.last_weights = self._cumulative(lasts)
        self.words = [w.capitalize() for w in lorem_en.Provider.word_list if len(w) > 3]
        self.suffixes = list(company_en.Provider.company_suffixes)

    @staticmethod
    def _weighted(names) -> dict[str, float]:
        if isinstance(names, dict):
            return {str(name): float(weight) for name, weight in names.items()}
        return dict.fromkeys(map(str, names), 1.0)

    @classmethod
    def _cumulative(cls, names) -> tuple[list[str], list[float]]:
        weighted = cls._weighted(names)
        return list(weighted), list(itertools.accumulate(weighted.values()))

    def first(self) -> str:
        return self.rng.choices(self.firsts, cum_weights=self.first_weights)[0]

    def last(self) -> str:
        return self.rng.choices(self.lasts, cum_weights=self.last_weights)[0]

    def person(self) -> tuple[str, str]:
        return self.first(), self.last()

    def company(self) -> str:
        shape = self.rng.random()
        if shape < 0.4:
            return f"{self.last()} {self.rng.choice(self.suffixes)}"
        if shape < 0.6:
            return f"{self.last()}-{self.last()}"
        first, second = self.rng.sample(self.words, 2)
        return f"{first} {second} {self.rng.choice(self.suffixes)}"

    @staticmethod
    def email(first: str, last: str, pk: int, domain: str) -> str:
        local = unicodedata.normalize("NFKD", f"{first}.{last}".lower())
        local = "".join(c for c in local if c.isascii() and (c.isalnum() or c in "."))
        return f"{local}{pk}@{domain}"


def ts(value: datetime) -> str:
    return value.isoformat(" ", "seconds")  # twice as fast as strftime


def optional_ts(value: datetime | None) -> str | None:
    return None if value is None else ts(value)


def without_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' foreign keys and the indexes no constraint owns, and
    return the statements that make them again (after the COPY)."""
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', conrelid::regclass, conname),
               format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', conrelid::regclass,
                      conname, pg_get_constraintdef(oid))
        FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
        UNION ALL
        SELECT format('DROP INDEX %%s', indexrelid::regclass),
               pg_get_indexdef(indexrelid)
        FROM pg_index
        WHERE indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)
        """,
        [tables, tables],
    )
    statements = cursor.fetchall()
    for drop, _ in statements:
        cursor.execute(drop)
    return [make for _, make in statements]


class Copier:
    """Buffers rows for one table and COPYs them in chunks."""

    def __init__(self, cursor, table: str, columns: list[str]):
        self.cursor, self.table, self.columns = cursor, table, columns
        self.buffer, self.rows, self.total = io.StringIO(), 0, 0

    @property
    def added(self) -> int:
        """Rows added so far (the last one's id, for ids counted from 1)."""
        return self.total + self.rows

    def add(self, *values) -> None:
        self.buffer.write("\t".join("\\N" if v is None else str(v) for v in values))
        self.buffer.write("\n")
        self.rows += 1
        if self.rows >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self.buffer.seek(0)
        self.cursor.copy_expert(
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer
        )
        self.total += self.rows
        self.buffer, self.rows = io.StringIO(), 0


class Command(BaseCommand):
    help = "Generate the load-benchmark data set in PostgreSQL (seeded, reproducible)."

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=1_000_000)
        parser.add_argument("--partners", type=int, default=20_000)
        parser.add_argument("--teams", type=int, default=20)
        parser.add_argument("--reps-per-team", type=int, default=10)
        parser.add_argument("--activities-per-referral", type=float, default=5.0)
        parser.add_argument("--years", type=float, default=3.0)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--reset", action="store_true", help="Empty the referral tables first."
        )

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_data writes with PostgreSQL's COPY: set DATABASE_URL."
            )
        started = time.monotonic()
        rng = random.Random(options["seed"])
        with transaction.atomic(), connection.cursor() as cursor:
            self.prepare(cursor, options["reset"])
            reps = self.users(options["teams"], options["reps_per_team"])
            # The users' checks now: a table with checks pending can't be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            rebuild = without_indexes(cursor, TABLES)
            # Referral partners' focus and what we gave them (issue 27) from
            # streams of their own: every other row is as it was before.
            self.focus_rng = random.Random(options["seed"] + 6)
            self.years = options["years"]
            partners, customers = self.partners(cursor, rng, reps, options["partners"])
            counts, won = self.referrals(cursor, rng, partners, options)
            # From a stream of their own, as the labels: the rows above are
            # the same as before outcomes and asks were added.
            asking = random.Random(options["seed"] + 5)
            counts |= self.asking(cursor, asking, customers, won)
            counts |= self.given(
                cursor, random.Random(options["seed"] + 7), options["years"]
            )
            # Each index built once over the rows, each foreign key checked in
            # one join: half the time of keeping them row by row.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for statement in rebuild:
                cursor.execute(statement)
            for table in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
                )
            # COPY went around the code that keeps the summaries: recompute them.
            call_command("rollups_rebuild", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
        elapsed = time.monotonic() - started
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(f"Generated {summary} in {elapsed:.0f} s.")
        )

    def prepare(self, cursor, reset: bool) -> None:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM referrals_referral)")
        if cursor.fetchone()[0]:
            if not reset:
                raise CommandError("The database already holds referrals; use --reset.")
            cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")

    def users(self, teams: int, per_team: int) -> list[int]:
        """Teams with a manager each and their reps (password 'bench')."""
        password = make_password(PASSWORD)
        rep_group, manager_group = (
            Group.objects.get(name="Rep"),
            Group.objects.get(name="Manager"),
        )
        reps = []
        self.team_of, self.focus_of = {}, {}
        for t in range(1, teams + 1):
            team, _ = Team.objects.get_or_create(name=f"Bench team {t:02d}")
            roles, industries, low, high = FOCUSES[t % len(FOCUSES)]
            focus, _ = TeamFocus.objects.update_or_create(
                team=team,
                defaults={
                    "focus_roles": roles,
                    "focus_industries": industries,
                    "focus_size_min": low,
                    "focus_size_max": high,
                },
            )
            self.focus_of[team.pk] = focus.focus()
            manager, _ = User.objects.get_or_create(
                email=f"manager{t:02d}@bench.example",
                defaults={
                    "password": password,
                    "display_name": f"Manager {t:02d}",
                    "team": team,
                },
            )
            manager.groups.add(manager_group)
            team.manager = manager
            team.save(update_fields=["manager"])
            for r in range(1, per_team + 1):
                rep, _ = User.objects.get_or_create(
                    email=f"rep{t:02d}{r:02d}@bench.example",
                    defaults={
                        "password": password,
                        "display_name": f"Rep {t:02d}-{r:02d}",
                        "team": team,
                    },
                )
                rep.groups.add(rep_group)
                reps.append(rep.pk)
                self.team_of[rep.pk] = team.pk
        User.objects.get_or_create(
            email="admin@bench.example",
            defaults={
                "password": password,
                "display_name": "Bench admin",
                "is_staff": True,
                "is_superuser": True,
            },
        )
        return reps

    def partners(self, cursor, rng, reps, count) -> tuple[list, list]:
        """(id, owner id, can email) of each partner, and of each customer."""
        now = ts(datetime.now(UTC))
        columns = [
            "id",
            "name",
            "email",
            "phone",
            "company",
            "title",
            "kind",
            "industry",
            "client_focus",
            "focus_roles",
            "focus_industries",
            "focus_size_min",
            "focus_size_max",
            "click",
            "trust",
            "fit_score",
            "owner_id",
            "email_consent",
            "email_consent_at",
            "notes",
            "created_at",
            "updated_at",
        ]
        copier = Copier(cursor, "partners_partner", columns)
        # Every source known since the data's first day (a dormant partner is
        # one known for longer than PARTNER_DORMANT_DAYS).
        known_since = ts(datetime.now(UTC) - timedelta(days=int(365 * self.years)))
        partners, customers = [], []
        self.referral_partners = []
        names = Names(rng)
        for pk in range(1, count + 1):
            owner = rng.choice(reps)
            consent = "out" if rng.random() < 0.15 else "in"
            first, last = names.person()
            company = names.company()
            kind = rng.choice(KINDS)
            focus = Focus()
            click = trust = score = None
            if kind == "partner":
                draw = self.focus_rng
                low, high = draw.choice(SIZES)
                focus = Focus(
                    roles=tuple(draw.sample(ROLES, draw.randint(1, 2))),
                    industries=tuple(draw.sample(INDUSTRIES, draw.randint(1, 2))),
                    size_min=low,
                    size_max=high,
                )
                click, trust = draw.randint(1, 5), draw.randint(1, 5)
                score = fit(
                    self.focus_of[self.team_of[owner]], focus, click=click, trust=trust
                ).score
            copier.add(
                pk,
                f"{first} {last}",
                names.email(first, last, pk, "example.org"),
                "555-0100",
                company,
                "Director",
                kind,
                "Software",
                "HR directors at mid-size firms",
                ", ".join(focus.roles),
                ", ".join(focus.industries),
                focus.size_min,
                focus.size_max,
                click,
                trust,
                score,
                owner,
                consent,
                now,
                "",
                known_since,
                now,
            )
            partners.append((pk, owner, consent == "in"))
            if kind == "partner":
                self.referral_partners.append((pk, owner))
            if kind == "customer":
                customers.append(partners[-1])
        copier.flush()
        return partners, customers

    def given(self, cursor, rng, years: float) -> dict:
        """Referrals we gave the referral partners (issue 27, reciprocity):
        none to four each, over the years of the data, most with a result."""
        today = date.today()
        now = ts(datetime.now(UTC))
        columns = [
            "id",
            "partner_id",
            "introduced",
            "company",
            "given_on",
            "note",
            "result",
            "given_by_id",
            "created_at",
            "updated_at",
        ]
        copier = Copier(cursor, "partners_givenreferral", columns)
        names = Names(rng)
        pk = 0
        for partner, owner in self.referral_partners:
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3, 4))):
                pk += 1
                first, last = names.person()
                given_on = today - timedelta(days=rng.randint(0, int(365 * years)))
                result = rng.choice(("open", "won", "lost", "lost"))
                if (today - given_on).days < 60:
                    result = "open"
                copier.add(
                    pk,
                    partner,
                    f"{first} {last}",
                    names.company(),
                    given_on.isoformat(),
                    "",
                    result,
                    owner,
                    now,
                    now,
                )
        copier.flush()
        return {"referrals given": pk}

    @staticmethod
    def assessment(rng) -> tuple[int | None, str]:
        """(score, label) of one referral: not assessed, or answered as
        seed_demo answers (some referrals are good all round)."""
        if rng.random() >= ASSESSED_SHARE:
            return assess([])
        warmth = rng.random()
        return assess((w, rng.random() < warmth + 0.15) for w in CRITERIA_WEIGHTS)

    def referrals(self, cursor, rng, partners, options) -> tuple[dict, dict]:
        """The referrals and theirs (stage changes, activities, thank-yous),
        and (id, closed at, source) of the won ones of the last OUTCOME_DAYS
        by owner, whose prospects may have become customers."""
        stages = list(Stage.objects.filter(is_archived=False).order_by("position"))
        open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
        won = next(s for s in stages if s.kind == Stage.Kind.WON)
        lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
        milestones = milestone_positions()
        names = Names(rng)
        configs = {c.moment: c for c in ThankYouMoment.objects.filter(enabled=True)}
        referral_copy = Copier(
            cursor,
            "referrals_referral",
            [
                "id",
                "prospect_name",
                "prospect_email",
                "prospect_phone",
                "prospect_company",
                "prospect_title",
                "source_id",
                "owner_id",
                "stage_id",
                "stage_entered_at",
                "estimated_value",
                "received_on",
                "first_contacted_at",
                "meeting_held_at",
                "closed_at",
                "lost_reason",
                "notes",
                "last_activity_at",
                "created_at",
                "updated_at",
                "furthest_position",
                "label",
                "score",
            ],
        )
        change_copy = Copier(
            cursor,
            "referrals_stagechange",
            ["id", "referral_id", "from_stage_id", "to_stage_id", "at", "by_id"],
        )
        activity_copy = Copier(
            cursor,
            "referrals_activity",
            ["id", "referral_id", "kind", "at", "author_id", "text"],
        )
        touch_copy = Copier(
            cursor,
            "referrals_touchpoint",
            [
                "id",
                "referral_id",
                "source_id",
                "moment",
                "channel",
                "status",
                "due_at",
                "deadline_at",
                "attempts",
                "last_error",
                "sent_at",
                "subject",
                "body_text",
                "body_html",
                "completed_at",
                "note",
                "created_at",
                "owner_id",
                "message_token",
            ],
        )
        now = datetime.now(UTC)
        won_since, won_by_owner = now - timedelta(days=OUTCOME_DAYS), defaultdict(list)
        # The assessments from a stream of their own: the rest of the data
        # set is the same as before labels were added.
        labels = random.Random(options["seed"] + 26)
        span = options["years"] * 365 * 86400
        per_referral = options["activities_per_referral"]
        change_id = activity_id = touch_id = 0
        for pk in range(1, options["referrals"] + 1):
            source, owner, can_email = partners[rng.randrange(len(partners))]
            created = now - timedelta(seconds=rng.random() * span)
            depth = rng.choices((1, 2, 3, 4), weights=(2, 3, 3, 2))[0]
            path = open_stages[:depth]
            outcome = rng.random()
            if created < now - timedelta(days=60):  # old referrals are mostly closed
                path.append(won if outcome < 0.35 else lost)
            elif outcome < 0.15:
                path.append(won)
            elif outcome < 0.25:  # some recent ones are lost too
                path.append(lost)
            # Each stage entered as a move enters it (referral_enter: the
            # milestone dates, the furthest stage, closed), in memory.
            referral = Referral(furthest_position=0)
            at, previous, owed = created, None, [("received", created)]
            for stage in path:
                if previous is not None:
                    at = min(at + timedelta(hours=rng.uniform(2, 24 * 10)), now)
                change_id += 1
                change_copy.add(
                    change_id,
                    pk,
                    previous.pk if previous else None,
                    stage.pk,
                    ts(at),
                    owner,
                )
                owed += [
                    (moment, at)
                    for moment in referral_enter(
                        referral, stage, at=at, milestones=milestones
                    )
                ]
                previous = stage
            final = path[-1]
            if final == won and referral.closed_at >= won_since:
                won_by_owner[owner].append((pk, referral.closed_at, source))
            value = rng.randrange(2_000, 80_000, 500)
            activities = int(per_referral * 2 * rng.random() + 0.5)
            last_activity = None
            for _ in range(activities):
                activity_id += 1
                when = created + (at - created) * rng.random()
                last_activity = max(last_activity or when, when)
                activity_copy.add(
                    activity_id,
                    pk,
                    rng.choice(("call", "email", "meeting", "note")),
                    ts(when),
                    owner,
                    rng.choice(NOTES),
                )
            first, last = names.person()
            score, label = self.assessment(labels)
            referral_copy.add(
                pk,
                f"{first} {last}",
                names.email(first, last, pk, "example.net"),
                "",
                names.company(),
                "",
                source,
                owner,
                final.pk,
                ts(at),
                value,
                created.date().isoformat(),
                optional_ts(referral.first_contacted_at),
                optional_ts(referral.meeting_held_at),
                optional_ts(referral.closed_at),
                rng.choice(LOST) if final == lost else "",
                "",
                ts(last_activity) if last_activity else None,
                ts(created),
                ts(now),
                referral.furthest_position,
                label,
                score,
            )
            for moment, when in owed:
                if moment not in configs:  # switched off
                    continue
                touch_id += 1
                terms = configs[moment].owed(at=when, by_email=can_email)
                late = rng.random() < 0.1
                done_at = (
                    terms["deadline_at"] + timedelta(hours=3)
                    if late
                    else when + timedelta(minutes=2)
                )
                pending = done_at > now
                status = "scheduled" if pending else ("sent" if can_email else "done")
                touch_copy.add(
                    touch_id,
                    pk,
                    source,
                    moment,
                    terms["channel"],
                    status,
                    ts(terms["due_at"]),
                    ts(terms["deadline_at"]),
                    1 if status == "sent" else 0,  # pending: not tried yet
                    "",
                    ts(done_at) if status == "sent" else None,
                    "",
                    "",
                    "",
                    ts(done_at) if status == "done" else None,
                    "",
                    ts(terms["created_at"]),
                    owner,
                    rng.randbytes(16).hex(),
                )
        for copier in (referral_copy, change_copy, activity_copy, touch_copy):
            copier.flush()
        return {
            "referrals": referral_copy.total,
            "stage changes": change_copy.total,
            "activities": activity_copy.total,
            "thank-yous": touch_copy.total,
        }, won_by_owner

    # -- Ready to ask: customers' outcomes and asks --------------------------------

    def asking(self, cursor, rng, customers, won) -> dict:
        """Outcomes and asks of about a third of the customers, as the
        services record them (partners.services outcome_record, ask_create;
        an email ask with its thanks.AskEmail, sent since, as
        thanks.services.ask_record makes it), and a few customers who asked
        not to be asked.

        1. A customer with outcomes became one when a won referral of their
           owner closed (FROM_A_WON_REFERRAL: its prospect, the first outcome
           recorded from it), or on a day of the last OUTCOME_DAYS.
        2. One to three outcomes follow, the first weeks after, the others
           by 30 days from now (promises), each delivered or not (delivery).
        3. After an outcome delivered as promised, the owner often asks a
           few weeks later, never within ASK_GAP_DAYS of their last ask.
        4. The won referrals' prospects become the customers (as
           referral_outcome_record's partner_create makes them: the
           prospect's name, email, phone, company, title), and those who
           asked not to be asked are marked: two statements.
        """
        now = datetime.now(UTC)
        today = timezone.localdate(now)
        outcomes = Copier(cursor, "partners_outcome", OUTCOME_COLUMNS)
        asks = Copier(
            cursor,
            "partners_ask",
            ["id", "partner_id", "asked_by_id", "asked_at", "channel", "note"],
        )
        emails = Copier(cursor, "thanks_askemail", ASK_EMAIL_COLUMNS)
        became, do_not_ask = {}, []
        taken = set()  # one prospect, one customer
        for customer, owner, can_email in customers:
            if rng.random() < DO_NOT_ASK_SHARE:
                do_not_ask.append(customer)
            if rng.random() >= OUTCOME_SHARE:
                continue
            start = now - timedelta(days=OUTCOME_DAYS * (1 - self.later(rng)))
            referral = None
            if won[owner] and rng.random() < FROM_A_WON_REFERRAL:
                pk, closed, source = max(
                    rng.choice(won[owner]), rng.choice(won[owner]), key=lambda w: w[1]
                )
                if pk not in taken and source != customer:
                    referral, start, became[customer] = pk, closed, pk
                    taken.add(pk)
            delivered_well = []
            for promised_by in self.promises(rng, start.date(), today):
                recorded = min(
                    now,
                    max(
                        start + timedelta(hours=rng.uniform(1, 24 * 7)),
                        self.at(promised_by - timedelta(days=rng.randint(14, 90)), rng),
                    ),
                )
                what = rng.choice(PROMISES)
                went = self.delivery(rng, promised_by, today)
                on = went["delivered_on"]
                outcomes.add(
                    outcomes.added + 1,
                    customer,
                    referral,
                    what,
                    promised_by.isoformat(),
                    self.delivered(what, went) if on else "",
                    on.isoformat() if on else None,
                    went["in_full"],
                    went["on_budget"],
                    went["satisfaction"],
                    owner,
                    ts(recorded),
                    ts(min(now, max(recorded, self.at(on, rng))))
                    if on
                    else ts(recorded),
                )
                if went["as_promised"]:
                    delivered_well.append(on)
                # The next ones recorded after, on the customer's page.
                referral, start = None, recorded
            for asked_at in self.ask_times(rng, delivered_well, now):
                channel = rng.choices(*CHANNELS[can_email])[0]
                by_email = channel == Ask.Channel.EMAIL
                note = "" if by_email else rng.choice(ASK_NOTES)
                asks.add(asks.added + 1, customer, owner, ts(asked_at), channel, note)
                if by_email:
                    sent_at = min(now, asked_at + timedelta(seconds=rng.uniform(2, 60)))
                    emails.add(
                        emails.added + 1,
                        asks.added,
                        customer,
                        AskEmail.Status.SENT,
                        ts(asked_at),  # due
                        1,  # attempts
                        ts(asked_at),  # claimed
                        "",
                        ts(sent_at),
                        "",
                        "",
                        "",
                        "",
                        ts(asked_at),  # created
                        rng.randbytes(16).hex(),
                    )
        for copier in (outcomes, asks, emails):
            copier.flush()
        cursor.execute(
            """
            UPDATE partners_partner AS customer
            SET name = referral.prospect_name, email = referral.prospect_email,
                phone = referral.prospect_phone, company = referral.prospect_company,
                title = referral.prospect_title
            FROM unnest(%s::bigint[], %s::bigint[]) AS became (partner_id, referral_id)
            JOIN referrals_referral AS referral ON referral.id = became.referral_id
            WHERE customer.id = became.partner_id
            """,
            [list(became), list(became.values())],
        )
        cursor.execute(
            "UPDATE partners_partner SET do_not_ask = true WHERE id = ANY(%s)",
            [do_not_ask],
        )
        return {
            "outcomes": outcomes.total,
            "asks": asks.total,
            "ask emails": emails.total,
        }

    @staticmethod
    def later(rng) -> float:
        """A share of a span, more often near its end: more customers lately
        than two years ago, as a business that grows by referral has."""
        return max(rng.random(), rng.random(), rng.random())

    @staticmethod
    def at(day: date, rng) -> datetime:
        """A time in the working hours of `day`."""
        return datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(
            hours=rng.uniform(0, 8)
        )

    @staticmethod
    def promises(rng, start: date, today: date) -> list[date]:
        """When a customer's one to three outcomes are promised: the first
        a few weeks after they became a customer on `start`, the others
        between it and 30 days from `today`; none later."""
        last = today + timedelta(days=30)
        first = min(start + timedelta(days=rng.randint(20, 120)), last)
        count = rng.choices(*OUTCOMES_EACH)[0]
        span = max((last - first).days, 30)
        others = [
            first + timedelta(days=rng.randint(30, span)) for _ in range(count - 1)
        ]
        return [first, *sorted(day for day in others if day <= last)]

    @staticmethod
    def delivery(rng, promised_by: date, today: date) -> dict:
        """How an outcome promised by `promised_by` stands on `today`: most
        delivered as promised; some late, short, over budget or rated low;
        the recent ones sometimes not rated yet; not delivered when its day
        is to come, or (OVERDUE_SHARE) when it went by lately."""
        late = rng.random() < LATE
        on = promised_by + timedelta(
            days=rng.randint(1, 30) if late else -rng.randint(0, 14)
        )
        gone_by = (today - promised_by).days
        if on > today or (0 < gone_by <= OVERDUE_DAYS and rng.random() < OVERDUE_SHARE):
            return {
                "delivered_on": None,
                "in_full": Answer.UNKNOWN,
                "on_budget": Answer.UNKNOWN,
                "satisfaction": None,
                "as_promised": False,
            }
        short, over = rng.random() < SHORT, rng.random() < OVER_BUDGET
        satisfaction = rng.choices(*SATISFACTION)[0]
        if late or short or over:  # customers notice
            satisfaction = max(1, satisfaction - 1)
        if (today - on).days < UNRATED_DAYS and rng.random() < UNRATED_SHARE:
            satisfaction = None
        return {
            "delivered_on": on,
            "in_full": Answer.NO if short else Answer.YES,
            "on_budget": Answer.NO if over else Answer.YES,
            "satisfaction": satisfaction,
            # What the owner asks after (partners.asking decides the rest).
            "as_promised": not (late or short or over)
            and (satisfaction or 0) >= SATISFIED_FROM,
        }

    @staticmethod
    def delivered(what: str, went: dict) -> str:
        done = "Most of it" if went["in_full"] == Answer.NO else "Done"
        return f"{done}: {what[0].lower()}{what[1:]}"

    @staticmethod
    def ask_times(rng, delivered_well: list[date], now: datetime) -> list[datetime]:
        """When the owner asked: ASKED_SHARE of the times an outcome was
        delivered as promised, a week to two months after, and never within
        ASK_GAP_DAYS of the last ask."""
        times = []
        for on in sorted(delivered_well):
            if rng.random() >= ASKED_SHARE:
                continue
            asked_at = Command.at(on + timedelta(days=rng.randint(14, 75)), rng)
            gap = timedelta(days=rng.randint(*ASK_GAP_DAYS))
            if asked_at <= now and (not times or asked_at - times[-1] >= gap):
                times.append(asked_at)
        return times
