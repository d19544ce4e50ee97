from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Logins beyond Django's own: the tablets members log in on, and their revocation."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import signals  # noqa: F401 (connects the receivers)
