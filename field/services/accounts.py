"""Writes about users' roles and areas."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from field.models import Profile, Role
from geo.models import District, Province


@transaction.atomic
def profile_set(
    *,
    user: User,
    role: Role,
    province: Province | None = None,
    districts: Sequence[District] = (),
    phone: str = "",
) -> Profile:
    """Creates or replaces the profile of ``user``: role, area and phone.

    The districts narrow the area within the province, so each must be in it.
    """
    outside = [d.code for d in districts if province is None or d.province_id != province.code]
    if outside:
        raise ValidationError(
            {"districts": f"districts {', '.join(outside)} are not in the profile's province"}
        )
    profile = Profile.objects.filter(user=user).first() or Profile(user=user)
    profile.role = role
    profile.province = province
    profile.phone = phone
    profile.full_clean()
    profile.save()
    profile.districts.set(districts)
    return profile
