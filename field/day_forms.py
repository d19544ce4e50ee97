"""The working-day fields shared by the route and campaign planning forms: how the
visitors travel, when their day starts and ends, and how long a visit takes."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy

from field.models import TravelMode


class DayHoursForm(forms.Form):
    """Base form: ``mode``, ``starts``, ``ends`` and ``service_minutes``. Subclasses
    set ``day_starts``/``day_ends`` (the initial hours) and ``field_order`` to put
    their own fields first."""

    day_starts: ClassVar[dt.time] = dt.time(8, 30)
    day_ends: ClassVar[dt.time] = dt.time(16, 30)

    mode = forms.ChoiceField(
        label=gettext_lazy("Travel by"), choices=TravelMode.choices, initial=TravelMode.MOTORCYCLE
    )
    starts = forms.TimeField(
        label=gettext_lazy("Working day starts"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    ends = forms.TimeField(
        label=gettext_lazy("Working day ends"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    service_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes per visit"), min_value=5, max_value=240, initial=30
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["starts"].initial = self.day_starts
        self.fields["ends"].initial = self.day_ends
