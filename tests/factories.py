import factory
from django.contrib.auth.models import Group

from accounts.models import REP, Team, User
from partners.models import Partner
from referrals.models import Referral, Stage


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=extracted or REP))


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"source{n}@example.org")
    company = factory.Faker("company")
    owner = factory.SubFactory(UserFactory)


def stage(name: str) -> Stage:
    return Stage.objects.get(name=name)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    prospect_name = factory.Faker("name")
    prospect_email = factory.Sequence(lambda n: f"prospect{n}@example.net")
    prospect_company = factory.Faker("company")
    source = factory.SubFactory(PartnerFactory)
    owner = factory.SelfAttribute("source.owner")
    stage = factory.LazyFunction(lambda: stage("Received"))
    estimated_value = 10_000
