from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def development_secret_key_check(app_configs, **kwargs):
    if "django-insecure-twincity" in settings.SECRET_KEY:
        return [
            Warning(
                "SECRET_KEY is the development key.",
                hint="Set SECRET_KEY in the environment to a long random value.",
                id="twincity.W001",
            )
        ]
    return []
