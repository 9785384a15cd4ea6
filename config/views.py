"""Project-wide error pages."""

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found

from suppliers import services
from suppliers.forms import PasswordLinkForm


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON under /api/ (as DRF answers there), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)


class LogoutView(auth_views.LogoutView):
    """POST signs out (Django's view, CSRF-protected); a GET (a typed or bookmarked
    /accounts/logout/) is asked first, with a form that POSTs, rather than a blank 405."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        return render(request, "registration/logout_confirm.html")


PASSWORD_RESETS_PER_HOUR = 5


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "forgot your password" view, with the site's templates and a plain-text
    mail. An address (the client's, and the email asked for) gets at most
    PASSWORD_RESETS_PER_HOUR mails an hour: past that the same "check your email" page
    answers and nothing is sent, so that nobody floods a person's inbox and the answer
    still tells nothing of which addresses exist."""

    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    # The mail in the account owner's language and time zone, not the asker's.
    form_class = PasswordLinkForm

    def form_valid(self, form):
        from config.security import client_address

        keys = [
            f"password-reset:client:{client_address(self.request)}",
            f"password-reset:email:{form.cleaned_data['email'].strip().lower()}",
        ]
        for key in keys:
            cache.add(key, 0, timeout=3600)
        if any((cache.get(key) or 0) >= PASSWORD_RESETS_PER_HOUR for key in keys):
            return HttpResponseRedirect(self.get_success_url())
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=3600)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's "choose a password" page, for a reset or an invitation. An invited person
    choosing its first password takes the language this page speaks (the browser's, or
    the language switch's) as its own (DESIGN section 11); anyone else keeps theirs."""

    def form_valid(self, form):
        services.user_take_first_language(user=form.user, language=translation.get_language())
        return super().form_valid(form)
