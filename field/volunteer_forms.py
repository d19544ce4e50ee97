"""The coordinator's form for one education volunteer: who, where they live (a
point picked on the map or taken from the phone's GPS), and how much they can do."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.gis.geos import Point
from django.utils.translation import gettext_lazy as _

from field.models import VolunteerKind, volunteer_default_capacity
from geo.models import District, Village

# Thailand's extent with a margin: a home outside it is a slip of the finger.
_LON = (97.0, 106.0)
_LAT = (5.0, 21.0)


class VillageChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Village) -> str:
        return f"{obj.name} · {obj.subdistrict.name_th} ({obj.code})"


class VolunteerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.RegexField(
        label=_("Phone"),
        regex=r"^0[0-9]{8,9}$",
        required=False,
        error_messages={"invalid": _("A Thai number: 9 or 10 digits starting with 0.")},
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=VolunteerKind.choices)
    village = VillageChoice(label=_("Village"), queryset=Village.objects.none())
    capacity = forms.IntegerField(
        label=_("Households they can look after"), min_value=1, max_value=500
    )
    active_from = forms.DateField(label=_("Active from"), widget=forms.DateInput({"type": "date"}))
    active_to = forms.DateField(
        label=_("Active until"), required=False, widget=forms.DateInput({"type": "date"})
    )
    lat = forms.FloatField(label=_("Latitude of home"), min_value=_LAT[0], max_value=_LAT[1])
    lon = forms.FloatField(label=_("Longitude of home"), min_value=_LON[0], max_value=_LON[1])
    # The version of the volunteer the form was rendered with: a save over a
    # later edit by someone else is refused (field.services.volunteers).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, district: District, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("capacity", volunteer_default_capacity())
        super().__init__(*args, **kwargs)
        villages = (
            Village.objects.filter(subdistrict__district=district)
            .select_related("subdistrict")
            .defer("area", "subdistrict__geom")
            .order_by("subdistrict__name_th", "code")
        )
        self.villages = list(villages)
        village = self.fields["village"]
        if isinstance(village, VillageChoice):
            village.queryset = villages

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("active_from"), cleaned.get("active_to")
        if start and end and end < start:
            self.add_error("active_to", _("The end comes before the start."))
        return cleaned

    def home(self) -> Point:
        return Point(self.cleaned_data["lon"], self.cleaned_data["lat"], srid=4326)
