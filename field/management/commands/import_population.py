from field.management.commands._importing import ImportCommand
from field.models import ImportKind


class Command(ImportCommand):
    help = "Imports a population file (CSV or XLSX); prints a summary, or JSON with --json."
    kind = ImportKind.POPULATION
