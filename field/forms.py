"""Forms of the import and funnel pages."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from field.models import Affiliation, ImportKind

# Thai academic years run from mid-May; a date before this one belongs to the
# year that started the May before.
ACADEMIC_YEAR_START = (5, 16)
BUDDHIST_ERA_OFFSET = 543
# What the upload keeps of the sender's file name: a short, plain suffix, so the
# reader can tell CSV from XLSX and nothing of the name reaches the file system.
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


def current_academic_year(today: dt.date | None = None) -> int:
    """The academic year (Buddhist era) that ``today`` (Bangkok) falls in."""
    today = today or timezone.localdate()
    started = (today.month, today.day) >= ACADEMIC_YEAR_START
    return today.year + BUDDHIST_ERA_OFFSET - (0 if started else 1)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    affiliation = forms.ChoiceField(
        label=_("Affiliation of the register"),
        choices=[("", "—"), *Affiliation.choices],
        required=False,
        help_text=_("Only for an enrolment register: the body whose schools it lists."),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s. Split it by district and send the parts.")
                % {"limit": filesizeformat(limit)}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == ImportKind.ENROLMENT:
            if not cleaned.get("affiliation"):
                self.add_error("affiliation", _("Choose the affiliation of this register."))
        else:
            # The selector stays filled in when the kind changes; only enrolment uses it.
            cleaned["affiliation"] = ""
        return cleaned

    def save_upload(self) -> Path:
        """Writes the upload to ``IMPORT_UPLOAD_DIR`` under a random name, keeping
        its suffix, and returns the path."""
        upload: UploadedFile = self.cleaned_data["file"]
        suffix = Path(upload.name or "").suffix.lower()
        directory = Path(settings.IMPORT_UPLOAD_DIR)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / f"{secrets.token_hex(16)}{suffix if _SUFFIX.match(suffix) else ''}"
        with path.open("xb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        return path


class FunnelQuery(forms.Form):
    """The funnel's query string: an area code and an academic year, both optional.
    The gap map's and the dashboard's queries add their own fields to it."""

    area = forms.RegexField(regex=r"^([0-9]{2}|[0-9]{4}|[0-9]{6})$", required=False)
    year = forms.IntegerField(min_value=2500, max_value=2700, required=False)


class ReconcileForm(forms.Form):
    academic_year = forms.IntegerField(
        label=_("Academic year (B.E.)"), min_value=2500, max_value=2700
    )
