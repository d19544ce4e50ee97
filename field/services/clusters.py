"""Drawing a tambon's village clusters, with the search teams' assignments in mind.

``geo.services.clusters_replace`` knows villages and areas; this adds what the
field needs: a cluster a team holds now cannot disappear (its households would
leave the team's list without anyone deciding so), and a tambon with clusters
must have every village in one (a household nearest an unclustered village would
lie in no cluster, so in no team's area).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from field.models import TeamArea
from geo.models import Subdistrict, Village, VillageCluster
from geo.services import clusters_replace

__all__ = ["CLUSTER_NAME_MAX", "clusters_set"]

logger = logging.getLogger(__name__)

CLUSTER_NAME_MAX = VillageCluster._meta.get_field("name").max_length or 100
# Villages named at most in a refusal: past this the coordinator needs the list
# on the page, not a sentence.
_NAMED_AT_MOST = 5


def _villages_text(villages: Sequence[Village]) -> str:
    named = ", ".join(str(v) for v in villages[:_NAMED_AT_MOST])
    more = len(villages) - _NAMED_AT_MOST
    if more > 0:
        named += " " + ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more}
    return named


@transaction.atomic
def clusters_set(
    *,
    subdistrict: Subdistrict,
    groups: Mapping[str, Sequence[Village]],
    by: User | None,
) -> list[VillageCluster]:
    """Makes the clusters of ``subdistrict`` exactly ``groups`` (name -> villages)
    and derives their areas; returns them in the order of ``groups``.

    Refused, with a ValidationError naming what is wrong, when a name is blank or
    too long, a village is outside the tambon or in two groups, some villages
    would be in no cluster while others are in one, or a cluster a team holds
    now would disappear or lose all its villages.

    A cluster whose name is kept keeps its id, so the team holding it keeps it
    with its area derived anew. A new name whose villages are exactly those of a
    cluster that would disappear renames that cluster instead, for the same
    reason. A cluster some team held in the past is kept without villages (and
    so without area) rather than deleted: the assignment history points at it.
    """
    cleaned: dict[str, list[Village]] = {}
    errors: list[str] = []
    for raw, villages in groups.items():
        name = raw.strip()
        if not name:
            errors.append(_("A cluster needs a name."))
        elif len(name) > CLUSTER_NAME_MAX:
            errors.append(
                _("The cluster name “%(name)s…” is longer than %(max)s characters.")
                % {"name": name[:20], "max": CLUSTER_NAME_MAX}
            )
        elif name in cleaned:
            errors.append(_("Two clusters are named “%(name)s”.") % {"name": name})
        else:
            cleaned[name] = list(villages)
    if errors:
        raise ValidationError(errors)

    # Locked before anything is read: assigning a cluster to a team takes a key
    # share lock on its row, so no team can be given a cluster this is deleting.
    current = {
        c.pk: c
        for c in VillageCluster.objects.select_for_update()
        .filter(subdistrict=subdistrict)
        .defer("area")
        .order_by("pk")
    }
    tambon = list(Village.objects.filter(subdistrict=subdistrict).defer("area").order_by("code"))
    in_tambon = {v.code for v in tambon}
    seen: dict[str, str] = {}
    for name, villages in cleaned.items():
        outside = [v for v in villages if v.code not in in_tambon]
        if outside:
            errors.append(
                _("Not villages of this tambon: %(villages)s.")
                % {"villages": _villages_text(outside)}
            )
        for village in villages:
            if village.code in seen and seen[village.code] != name:
                errors.append(
                    _("%(village)s is in two clusters: %(a)s and %(b)s.")
                    % {"village": village, "a": seen[village.code], "b": name}
                )
            seen[village.code] = name
    loose = [v for v in tambon if v.code not in seen]
    if seen and loose:
        errors.append(
            _(
                "%(villages)s would be in no cluster, and so would the households nearest "
                "to them: no team could be given them. Give every village a cluster, or "
                "leave every village without one."
            )
            % {"villages": _villages_text(loose)}
        )
    if errors:
        raise ValidationError(errors)

    original = {pk: c.name for pk, c in current.items()}
    members: dict[int, set[str]] = {pk: set() for pk in current}
    for village in tambon:
        if village.cluster_id in members:
            members[village.cluster_id].add(village.code)
    # Only to a name no cluster has now: the renames then never collide with
    # each other or with a cluster not yet renamed.
    for name, villages in cleaned.items():
        codes = {v.code for v in villages}
        if name in original.values() or not codes:
            continue
        renamed = next(
            (
                c
                for c in current.values()
                if c.name == original[c.pk] and c.name not in cleaned and members[c.pk] == codes
            ),
            None,
        )
        if renamed is not None:
            renamed.name = name

    held = (
        TeamArea.objects.filter(cluster_id__in=list(current), ended_at__isnull=True)
        .select_related("team")
        .order_by("cluster_id", "pk")
    )
    for area in held:
        if area.cluster_id is None:
            continue
        cluster = current[area.cluster_id]
        if cleaned.get(cluster.name):
            continue
        errors.append(
            _(
                "Cluster %(cluster)s is held by team %(team)s and would be left without "
                "villages: end that team's assignment first."
            )
            % {"cluster": original[cluster.pk], "team": area.team.name}
        )
    if errors:
        raise ValidationError(errors)

    for cluster in current.values():
        if cluster.name != original[cluster.pk]:
            VillageCluster.objects.filter(pk=cluster.pk).update(name=cluster.name)
    historic = set(
        TeamArea.objects.filter(cluster_id__in=list(current)).values_list("cluster_id", flat=True)
    )
    kept: dict[str, Sequence[Village]] = dict(cleaned)
    for cluster in current.values():
        if cluster.name not in kept and cluster.pk in historic:
            kept[cluster.name] = []
    result = clusters_replace(subdistrict=subdistrict, groups=kept)
    logger.info(
        "clusters of tambon %s set by user %s: %s",
        subdistrict.code,
        by.pk if by else None,
        {name: len(villages) for name, villages in cleaned.items()},
    )
    return [c for c in result if c.name in cleaned]
