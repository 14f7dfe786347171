"""factory-boy factories of the accounts app: organisations, users and memberships."""

from __future__ import annotations

from typing import Any

import factory

from vinculo.accounts.models import Membership, Organization, Role, User

PASSWORD = "a long test password 42"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-f{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user whose password is PASSWORD (hashed by the test settings' fast Argon2)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user-f{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User F{n}")
    language = "en"

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> User:
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member of an organisation (a new one unless given), owner unless `role` says otherwise."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OWNER
