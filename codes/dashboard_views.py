from django.utils import timezone
from django.views.generic import TemplateView

from cms.web.views import AccountRequiredMixin
from codes.notices import notices_due_for
from codes.services import notices_mark_seen

from . import dashboard


class DashboardView(AccountRequiredMixin, TemplateView):
    """The page after sign-in: the numbers of the user's part of the tree and the expiry
    notices due. Every number comes from a selector of `codes.dashboard`."""

    template_name = "cms/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        due = notices_due_for(user, now)
        # Show-once notices count as seen as soon as they are on the page.
        notices_mark_seen(user=user, notices=[d.notice for d in due])
        series = dashboard.activations_per_day(user, now=now)
        context.update(
            codes=dashboard.code_summary(user, now=now),
            units=dashboard.unit_summary(user, now=now),
            chart=dashboard.bar_chart(series),
            chart_days=dashboard.CHART_DAYS,
            notices_due=due,
        )
        return context
