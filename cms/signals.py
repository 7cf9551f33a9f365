"""What the account services announce to the apps built on them: accounts know nothing of codes
and units, so those apps listen instead. Sent inside the change's transaction."""

from django.dispatch import Signal

#: An account was renamed or its time zone changed (kwargs: account, before: {"name", "time_zone"}).
#: Codes move a provider's use-by deadlines with its zone; units drop the status answers that
#: name the account.
account_updated = Signal()
