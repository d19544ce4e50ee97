from django.db import migrations


class Migration(migrations.Migration):
    """A village may only join a cluster of its own tambon.

    Django has no composite foreign keys, so this one is plain SQL. MATCH SIMPLE
    leaves villages without a cluster unchecked.
    """

    dependencies = [("geo", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=(
                "ALTER TABLE geo_village ADD CONSTRAINT village_cluster_same_tambon "
                "FOREIGN KEY (cluster_id, subdistrict_id) "
                "REFERENCES geo_villagecluster (id, subdistrict_id) "
                "ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED"
            ),
            reverse_sql="ALTER TABLE geo_village DROP CONSTRAINT village_cluster_same_tambon",
        )
    ]
