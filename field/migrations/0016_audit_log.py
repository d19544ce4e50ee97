"""The audit log, append-only in the database.

The triggers refuse UPDATE and DELETE of any row, and TRUNCATE of the table,
whoever runs them: the application, the Django admin, an administrator's psql
session, the postgres superuser. Only the table's DDL can get past them
(DISABLE TRIGGER, DROP TABLE), which needs the table's owner and leaves its
own trace in the server log; deployments should run the application as a role
that does not own the table.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

_FORBID = """
CREATE FUNCTION field_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'field_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER field_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON field_auditevent
    FOR EACH ROW EXECUTE FUNCTION field_auditevent_append_only();
CREATE TRIGGER field_auditevent_no_truncate
    BEFORE TRUNCATE ON field_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION field_auditevent_append_only();
"""
_ALLOW = """
DROP TRIGGER field_auditevent_no_truncate ON field_auditevent;
DROP TRIGGER field_auditevent_no_update_delete ON field_auditevent;
DROP FUNCTION field_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("field", "0015_area_publication"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("username", models.CharField(blank=True, max_length=150)),
                (
                    "role",
                    models.CharField(blank=True, help_text="The role at the time", max_length=20),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("view", "Viewed"),
                            ("edit", "Edited"),
                            ("close", "Closed"),
                            ("export", "Exported"),
                            ("assign", "Assigned"),
                            ("unassign", "Assignment ended"),
                            ("reassign", "Reassigned"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "obj_kind",
                    models.CharField(
                        choices=[
                            ("case", "Case"),
                            ("child", "Child"),
                            ("household", "Household"),
                            ("team_area", "Team area"),
                            ("zone_assignment", "Zone assignment"),
                            ("route_plan", "Route plan"),
                            ("import_run", "Import report"),
                            ("area", "Area"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "obj_id",
                    models.BigIntegerField(
                        blank=True,
                        help_text="None for a list of many, counted in the detail",
                        null=True,
                    ),
                ),
                ("tambon", models.CharField(blank=True, db_index=True, max_length=6)),
                ("detail", models.CharField(blank=True, max_length=200)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("device", models.CharField(blank=True, max_length=120)),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        help_text="None for the command line and background jobs",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-at", "-pk"],
                "indexes": [models.Index(fields=["tambon", "-at"], name="audit_event_area_at")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "action__in",
                                [
                                    "view",
                                    "edit",
                                    "close",
                                    "export",
                                    "assign",
                                    "unassign",
                                    "reassign",
                                ],
                            )
                        ),
                        name="audit_event_action_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "obj_kind__in",
                                [
                                    "case",
                                    "child",
                                    "household",
                                    "team_area",
                                    "zone_assignment",
                                    "route_plan",
                                    "import_run",
                                    "area",
                                ],
                            )
                        ),
                        name="audit_event_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("role", ""),
                            (
                                "role__in",
                                [
                                    "administrator",
                                    "coordinator",
                                    "team_member",
                                    "volunteer",
                                    "official",
                                ],
                            ),
                            _connector="OR",
                        ),
                        name="audit_event_role_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("tambon__regex", "^([0-9]{2}){0,3}$")),
                        name="audit_event_tambon_code",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("detail__regex", "[0-9]{13}"), _negated=True),
                        name="audit_event_detail_no_id",
                    ),
                ],
            },
        ),
        migrations.RunSQL(_FORBID, reverse_sql=_ALLOW),
    ]
