"""Sign-in backend: Django's ModelBackend, and an open session ends when the user's account is
disabled (a disabled user is already refused by ModelBackend). Signing in to a disabled account
is refused by `ActiveAccountAuthenticationForm`, which tells the person why."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ActiveAccountBackend(ModelBackend):
    def get_user(self, user_id):
        # The account comes along: every page of the window reads it.
        user = get_user_model().objects.select_related("account").filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if user.account_id is not None and not user.account.is_active:
            return None
        return user
