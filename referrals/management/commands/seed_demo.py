"""Demo data for a new user: the demo logins, two teams, sources and referrals.

Idempotent: users and teams are looked up by email and name, and the sample
partners and referrals are only made when the demo reps have none yet.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.models import ADMIN, MANAGER, REP, Team, User
from partners.models import Ask, Partner, TeamFocus
from partners.services import (
    given_referral_record,
    outcome_record,
    team_focus_save,
)
from referrals.models import Activity, Criterion, Referral, Stage, StageChange
from referrals.services import (
    criterion_create,
    referral_assess,
    referral_enter,
    statement_create,
)
from thanks.models import Moment, ThankYou, ThankYouMoment
from thanks.services import commitment_change, commitment_record, render_thank_you

PASSWORD = "demo"
# email, display name, team, role
DEMO_USERS = [
    ("rep@example.com", "Riley Parker", "North", REP),
    ("rep2@example.com", "Sam Okafor", "North", REP),
    ("rep3@example.com", "Jordan Lee", "South", REP),
    ("manager@example.com", "Morgan Diaz", "North", MANAGER),
    ("admin@example.com", "Alex Admin", None, ADMIN),
]
DEMO_REPS = ["rep@example.com", "rep2@example.com", "rep3@example.com"]
# With DEBUG off, say what would happen and how to go on, rather than do it.
REFUSE_IN_PRODUCTION = (
    "DEBUG is off, so this looks like production; nothing was changed. "
    "seed_demo would create {count} demo logins with the password 'demo' "
    "({logins}; admin@example.com is an admin who sees everything), the teams "
    "North and South, and made-up data: {partners} sources with fake names and "
    "example.com/.org/.net addresses, {referrals} referrals with their stage "
    "history and notes, and past thank-yous (emails recorded as sent, so none "
    "goes out; a few calls left on Today). Anyone who knows the password "
    "'demo' could then sign in as an admin. On a real site, create the first "
    "admin with `manage.py createsuperuser` instead. For a demo or staging "
    "site, run `manage.py seed_demo --force`."
)
DEMO_LOGINS_LIVE = (
    "DEBUG is off and the demo logins exist, with the password 'demo': "
    "deactivate them or change their passwords before real users arrive."
)
INDUSTRIES = [
    "Software",
    "Healthcare",
    "Manufacturing",
    "Finance",
    "Retail",
    "Logistics",
]
FOCUS = [
    "HR directors at mid-size firms",
    "CFOs of family-owned manufacturers",
    "Practice managers of clinics",
    "Operations leads at logistics companies",
    "Founders of SaaS start-ups",
]
# Whom each team sells to and referral partners serve (issue 27's fit).
ROLES = ["HR director", "Head of people", "CFO", "Practice manager", "Founder"]
PARTNER_SIZES = [(10, 50), (20, 200), (50, 500), (200, 2000), (1000, None)]
TEAM_FOCUS = {
    "North": ("HR director, Head of people", "Software, Healthcare", 50, 500),
    "South": ("CFO, Founder", "Manufacturing, Finance", 10, 200),
}
# Commitments of a partnership plan: what, due in how many days, who owes it.
PLAN_COMMITMENTS = [
    ("Introduce two HR directors", -30, "them"),
    ("Co-host a breakfast for CFOs", 45, "us"),
    ("Send our case study on payroll", -3, "us"),
    ("Review each other's client lists", 5, "us"),
    ("Refer one mid-size software firm", 20, "them"),
    ("Quarterly catch-up lunch", -14, "us"),
]
LOST_REASONS = ["Chose a competitor", "No budget this year", "Went quiet", "Not a fit"]
THANKS_NOTES = [
    "Called to say thanks; they were glad to hear it is moving.",
    "Sent a handwritten card.",
    "Thanked them over lunch.",
]
# The organisation's referral criteria (question, weight) and why its best
# customers value it (issue 26).
CRITERIA = [
    ("Speaks to the decision maker or their direct report", 3),
    ("Company of 50 to 2,000 people", 2),
    ("Has a need this year", 3),
    ("Introduced with context, not just a name", 1),
]
VALUE_STATEMENTS = [
    "We answer the same day, and the person who answers can decide.",
    "Onboarding took weeks, not months, and nobody had to chase us.",
    "They tell us what will not work before we pay for it.",
]
# The share of demo referrals assessed; the rest stay Not assessed.
ASSESSED_SHARE = 0.8
# Each demo rep's customers' outcomes: (delivered how many days ago, or None
# when in progress; late; satisfaction; asked how many days ago), for Ready
# to ask (partners.asking): ready, late, satisfaction not asked, in
# progress, asked lately.
OUTCOMES = [
    (12, False, 5, None),
    (30, True, 4, None),
    (20, False, None, None),
    (None, False, None, None),
    (45, False, 5, 30),
]
PROMISES = [
    "Migrate their 40 mailboxes to the new system",
    "Onboard the finance team of 12",
    "Deliver the quarterly audit report",
    "Set up payroll for the new office",
]

# What a rep notes by hand (an assessment is the criteria's).
DEMO_ACTIVITY_KINDS = ["call", "email", "meeting", "note"]

NOTES = [
    "Asked for a call next week about pricing.",
    "Interested, wants a case study from their industry.",
    "Source says they are unhappy with their current vendor.",
    "Left a voicemail; will try again Thursday.",
    "Met for coffee, good rapport.",
]


class Command(BaseCommand):
    help = "Create the demo logins (password 'demo') and realistic sample data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off too (a demo or staging site).",
        )
        parser.add_argument("--partners", type=int, default=40)
        parser.add_argument("--referrals", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                REFUSE_IN_PRODUCTION.format(
                    count=len(DEMO_USERS),
                    logins=", ".join(email for email, *_ in DEMO_USERS),
                    partners=options["partners"],
                    referrals=options["referrals"],
                )
            )
        if self.seed(options["partners"], options["referrals"], options["seed"]):
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already present; logins checked.")
        if not settings.DEBUG:
            self.stderr.write(self.style.WARNING(DEMO_LOGINS_LIVE))

    @transaction.atomic
    def seed(self, n_partners: int, n_referrals: int, seed: int) -> bool:
        """The logins, then the sample data unless the demo reps have some."""
        users = self.create_users()
        reps = [users[email] for email in DEMO_REPS]
        if Partner.objects.filter(owner__in=reps).exists():
            return False
        self.create_sample_data(reps, n_partners, n_referrals, seed)
        self.create_criteria(seed)
        self.create_focus()
        self.create_given(seed)
        self.create_plans(seed)
        self.create_outcomes(reps, seed)
        # The sample rows were bulk-created: compute their summaries.
        call_command("rollups_rebuild", verbosity=0)
        return True

    def create_users(self) -> dict[str, User]:
        teams = {
            name: Team.objects.get_or_create(name=name)[0]
            for name in ("North", "South")
        }
        users = {}
        for email, name, team, role in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email,
                    PASSWORD,
                    display_name=name,
                    team=teams.get(team),
                    is_staff=role == ADMIN,
                    is_superuser=role == ADMIN,
                )
            user.groups.add(Group.objects.get(name=role))
            users[email] = user
        north = teams["North"]
        if north.manager_id is None:
            north.manager = users["manager@example.com"]
            north.save(update_fields=["manager"])
        return users

    def create_sample_data(self, reps, n_partners, n_referrals, seed) -> None:
        rng, focus_rng = random.Random(seed), random.Random(seed + 1)
        fake = Faker()
        fake.seed_instance(seed)
        now = timezone.now()
        partners = Partner.objects.bulk_create(
            [self.partner(fake, rng, focus_rng, reps, now) for _ in range(n_partners)]
        )
        stages = list(Stage.objects.filter(is_archived=False).order_by("position"))
        open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
        won = next(s for s in stages if s.kind == Stage.Kind.WON)
        lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
        referrals, histories, thanks_owed = [], [], []
        for _ in range(n_referrals):
            source = rng.choice(partners)
            path = self.stage_path(rng, open_stages, won, lost)
            # Open referrals are mostly recent (a few gone stale); closed ones
            # spread over the six months.
            if path[-1].is_closed:
                age = rng.uniform(10, 182)
            else:
                age = rng.uniform(0, 8) if rng.random() < 0.7 else rng.uniform(8, 40)
            received = now - timedelta(days=age)
            referral, changes, owed = self.referral(
                fake, rng, source, received, path, now
            )
            referrals.append(referral)
            histories.append(changes)
            thanks_owed.append(owed)
        Referral.objects.bulk_create(referrals)
        for referral, changes in zip(referrals, histories, strict=True):
            for change in changes:
                change.referral = referral
        StageChange.objects.bulk_create(c for changes in histories for c in changes)
        self.create_thanks(rng, zip(referrals, thanks_owed, strict=True), now)
        Activity.objects.bulk_create(
            Activity(
                referral=r,
                kind=rng.choice(DEMO_ACTIVITY_KINDS),
                at=r.last_activity_at,
                author=r.owner,
                text=rng.choice(NOTES),
            )
            for r in referrals
            if r.last_activity_at
        )

    def create_criteria(self, seed: int) -> None:
        """The organisation's criteria and value statements, and most demo
        referrals assessed through the service (answers, label, timeline)."""
        if Criterion.objects.exists():
            return
        criteria = [
            criterion_create(team=None, question=question, weight=weight)
            for question, weight in CRITERIA
        ]
        for text in VALUE_STATEMENTS:
            statement_create(team=None, text=text)
        rng = random.Random(seed + 26)
        for referral in Referral.objects.select_related("owner").order_by("pk"):
            if rng.random() >= ASSESSED_SHARE:
                continue
            warmth = rng.random()  # some referrals are good all round
            referral_assess(
                referral=referral,
                user=referral.owner,
                answers={c.pk: rng.random() < warmth + 0.15 for c in criteria},
            )

    def create_outcomes(self, reps, seed: int) -> None:
        """What was delivered to the demo customers (through the service), so
        that Today's Ready to ask has customers to ask, and to leave for
        now, for every demo rep (OUTCOMES)."""
        rng = random.Random(seed + 5)
        today = timezone.localdate()
        for rep in reps:
            customers = list(
                Partner.objects.filter(owner=rep, kind=Partner.Kind.CUSTOMER)
                .exclude(email="")
                .order_by("pk")[: len(OUTCOMES)]
            )
            for customer, (days_ago, late, satisfaction, asked) in zip(
                customers, OUTCOMES, strict=False
            ):
                promised = rng.choice(PROMISES)
                if asked is not None:
                    Ask.objects.create(
                        partner=customer,
                        asked_by=rep,
                        channel=Ask.Channel.IN_PERSON,
                        asked_at=timezone.now() - timedelta(days=asked),
                    )
                if days_ago is None:  # in progress
                    outcome_record(
                        partner=customer,
                        user=rep,
                        promised=promised,
                        promised_by=today + timedelta(days=rng.randint(5, 30)),
                    )
                    continue
                delivered_on = today - timedelta(days=days_ago)
                outcome_record(
                    partner=customer,
                    user=rep,
                    promised=promised,
                    promised_by=delivered_on + timedelta(days=-4 if late else 3),
                    delivered=f"Done: {promised[0].lower()}{promised[1:]}",
                    delivered_on=delivered_on,
                    in_full="yes",
                    on_budget="yes",
                    satisfaction=satisfaction,
                )

    def create_focus(self) -> None:
        """Each team's focus (issue 27), which measures every referral
        partner's fit (team_focus_save)."""
        for name, (roles, industries, low, high) in TEAM_FOCUS.items():
            team = Team.objects.filter(name=name).first()
            if team is not None and not TeamFocus.objects.filter(team=team).exists():
                team_focus_save(
                    team=team,
                    user=None,
                    focus_roles=roles,
                    focus_industries=industries,
                    focus_size_min=low,
                    focus_size_max=high,
                )

    def create_given(self, seed: int) -> None:
        """Referrals given to the referral partners (issue 27): none to three
        each in the last six months, some with a result, so the partner pages
        and the dashboard show the balance both ways."""
        rng, fake = random.Random(seed + 2), Faker()
        fake.seed_instance(seed + 2)
        today = timezone.localdate()
        for partner in Partner.objects.filter(kind=Partner.Kind.PARTNER).order_by("pk"):
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                given_on = today - timedelta(days=rng.randint(0, 180))
                given_referral_record(
                    partner=partner,
                    user=partner.owner,
                    introduced=fake.name(),
                    company=fake.company(),
                    given_on=given_on,
                    result=rng.choice(("open", "won", "lost"))
                    if (today - given_on).days > 30
                    else "open",
                )

    def create_plans(self, seed: int) -> None:
        """A partnership plan for each referral partner (issue 27): a
        commitment kept, one overdue or due soon, one later, so Today, the
        plans and the reminders have something to show."""
        rng = random.Random(seed + 3)
        today = timezone.localdate()
        for partner in Partner.objects.filter(kind=Partner.Kind.PARTNER).order_by("pk"):
            for what, days, owed_by in rng.sample(PLAN_COMMITMENTS, 3):
                due_on = today + timedelta(days=days)
                commitment = commitment_record(
                    partner=partner,
                    owner=partner.owner,
                    what=what,
                    due_on=due_on,
                    owed_by=owed_by,
                )
                if days < -7:  # long past: kept (on time, or a little late)
                    commitment_change(
                        commitment=commitment,
                        status="done",
                        done_on=due_on + timedelta(days=rng.choice((-2, 0, 3))),
                    )

    def partner(self, fake, rng, focus_rng, reps, now) -> Partner:
        """A sample source. `rng` draws what every source has, in the same
        order as before referral partners had a focus (the demo's other
        data stays as it was for a seed); `focus_rng` a partner's focus."""
        opted_out = rng.random() < 0.15
        kind = rng.choices(Partner.Kind.values, weights=[5, 3, 2, 1])[0]
        industry, client_focus = rng.choice(INDUSTRIES), rng.choice(FOCUS)
        their_industry = rng.choice(INDUSTRIES)
        focus = {}
        if kind == Partner.Kind.PARTNER:  # whom they serve, and how we get on
            low, high = focus_rng.choice(PARTNER_SIZES)
            industries = {their_industry, focus_rng.choice(INDUSTRIES)}
            focus = {
                "focus_roles": ", ".join(
                    focus_rng.sample(ROLES, focus_rng.randint(1, 2))
                ),
                "focus_industries": ", ".join(sorted(industries)),
                "focus_size_min": low,
                "focus_size_max": high,
                "click": focus_rng.randint(2, 5),
                "trust": focus_rng.randint(2, 5),
            }
        return Partner(
            **focus,
            name=fake.name(),
            email=fake.unique.email(),
            phone=fake.phone_number(),
            company=fake.company(),
            title=fake.job()[:200],
            kind=kind,
            industry=industry,
            client_focus=client_focus,
            owner=rng.choice(reps),
            email_consent=Partner.Consent.OPTED_OUT
            if opted_out
            else Partner.Consent.OPTED_IN,
            email_consent_at=now - timedelta(days=rng.randint(1, 300)),
        )

    def stage_path(self, rng, open_stages, won, lost) -> list[Stage]:
        """The stages a referral went through, from Received to where it is now."""
        depth = rng.choices(range(1, len(open_stages) + 1), weights=[2, 3, 3, 2])[0]
        path = open_stages[:depth]
        outcome = rng.random()
        if outcome < 0.3:
            path.append(won)
        elif outcome < 0.5:
            path.append(lost)
        return path

    def referral(self, fake, rng, source, received, path, now):
        """A referral that went through `path`, each stage entered as a move
        enters it (referral_enter: milestone dates, furthest stage, closed),
        and the thanks each step owed, with when."""
        final = path[-1]
        value = Decimal(rng.randrange(2_000, 80_000, 500))
        referral = Referral(
            prospect_name=fake.name(),
            prospect_email=fake.email(),
            prospect_phone=fake.phone_number(),
            prospect_company=fake.company(),
            prospect_title=fake.job()[:200],
            source=source,
            owner=source.owner,
            estimated_value=value,
            received_on=received.date(),
            created_at=received,
            lost_reason=rng.choice(LOST_REASONS)
            if final.kind == Stage.Kind.LOST
            else "",
        )
        at, previous = received, None
        changes, owed = [], [(Moment.RECEIVED, received)]
        for stage in path:
            if previous is not None:
                at = min(at + timedelta(hours=rng.uniform(4, 24 * 3)), now)
            changes.append(
                StageChange(from_stage=previous, to_stage=stage, at=at, by=source.owner)
            )
            owed += [(moment, at) for moment in referral_enter(referral, stage, at=at)]
            previous = stage
        referral.last_activity_at = at if len(path) > 1 else None
        return referral, changes, owed

    def create_thanks(self, rng, referrals_and_thanks_owed, now) -> None:
        """The thank-you history: sent or done, with a few calls still owed."""
        configs = {c.moment: c for c in ThankYouMoment.objects.filter(enabled=True)}
        thank_yous = [
            self.thank_you(rng, configs[moment], referral, at, now)
            for referral, owed in referrals_and_thanks_owed
            for moment, at in owed
            if moment in configs
        ]
        ThankYou.objects.bulk_create(thank_yous)

    def thank_you(self, rng, config, referral, at, now) -> ThankYou:
        thank_you = ThankYou(
            referral=referral,
            source=referral.source,
            owner=referral.owner,
            moment=config.moment,
            **config.owed(at=at, by_email=referral.source.can_email),
        )
        if thank_you.channel == ThankYou.Channel.EMAIL:
            subject, body = render_thank_you(config, referral)
            thank_you.status = ThankYou.Status.SENT
            thank_you.sent_at = thank_you.due_at + timedelta(seconds=rng.uniform(5, 90))
            thank_you.attempts = 1
            thank_you.subject, thank_you.body_text = subject, body
        else:
            # A call, or for some a handwritten card: the rep's choice.
            thank_you.channel = rng.choice(
                [ThankYou.Channel.CALL, ThankYou.Channel.CARD]
            )
            if now - at < timedelta(days=3):
                thank_you.status = ThankYou.Status.SCHEDULED  # still owed: on Today
            else:
                thank_you.status = ThankYou.Status.DONE
                thank_you.completed_at = at + timedelta(hours=rng.uniform(0.5, 30))
                thank_you.completed_by = referral.owner
                thank_you.note = rng.choice(THANKS_NOTES)
        return thank_you
