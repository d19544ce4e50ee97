from field.management.commands._importing import ImportCommand
from field.models import ImportKind


class Command(ImportCommand):
    help = (
        "Imports the coordinator's list of education volunteers (CSV or XLSX); "
        "prints a summary, or JSON with --json."
    )
    kind = ImportKind.VOLUNTEERS
