"""The authentication backend: Django's model backend, with the person's organisation loaded with the person."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class OrganisationModelBackend(ModelBackend):
    """Every page names the signed-in person's organisation and the access predicates read its kind: the
    session's user comes with it in one query instead of two."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("organisation").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
