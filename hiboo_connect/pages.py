"""The small kit every portal view uses, so the pages answer alike: one URL serves a page or, for htmx, its fragment
(and says so to caches); a service's refusal lands next to the form field it names; stop, delete and remove ask first,
then act; every form shows its fields one way. Knows nothing of the apps: only Django, django-htmx and the domain
errors."""

from collections.abc import Callable

from django.forms.renderers import TemplatesSetting
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from hiboo_connect.errors import DomainError, NotAllowed


def fragment_requested(request: HttpRequest) -> bool:
    """htmx asks for a part of the page to swap in. A history restore (htmx's cache of the page missed) wants the
    whole page, like a plain request."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, context: dict | None = None, *, fragment: str, status: int = 200
) -> HttpResponse:
    """The page, or its fragment when htmx asks for one: `fragment` is a partial of the page's template
    ("#results" renders "page.html#results") or another template ("fleet/machines.html#received_row").

    The same URL answers two different bodies depending on the HX-Request header, so the answer always carries
    `Vary: HX-Request`: a cache (the browser's included) must not hand the fragment to a page load, or the reverse."""
    if fragment_requested(request):
        template = template + fragment if fragment.startswith("#") else fragment
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def show_on_form(form, error: DomainError) -> None:
    """Show a service's refusal next to the form field it names, or above the form when no field of this form fits;
    with the others the same check found (`error.also`). A field that already has an error (what was typed could not
    even be read) keeps that one alone."""
    for each in (error, *error.also):
        field = each.field if each.field in form.fields else None
        if field is not None and form.has_error(field):
            continue
        form.add_error(field, each.message)


def error_summary(form, *, anchors: dict[str, str] | None = None) -> list[dict]:
    """Every error of a bound form, for templates/portal/error_summary.html: the errors of no field first, then each
    field's in the form's order, with the id its link goes to (the field's own, or `anchors[name]` for a field laid
    out by the page, a picker say) and its label."""
    anchors = anchors or {}
    items = [{"anchor": "", "label": "", "message": message} for message in form.non_field_errors()]
    for bound in form:
        for message in bound.errors:
            items.append(
                {
                    "anchor": anchors.get(bound.name) or bound.id_for_label or bound.auto_id,
                    "label": bound.label,
                    "message": message,
                }
            )
    return items


class Refusal:
    """Catches a service's refusal so the page can show it:

        with pages.refusal(form) as refused:
            services.workspace_rename(...)
        if not refused:
            ... the write went through ...

    A DomainError raised in the block is kept (`refused.error`, `refused.message`) and, given a form, shown on it
    (`show_on_form`). NotAllowed is not caught: it is not about what was typed, and `organisation_page` answers it
    with 403."""

    def __init__(self, form=None):
        self.form = form
        self.error: DomainError | None = None

    def __enter__(self) -> "Refusal":
        return self

    def __exit__(self, exc_type, error, traceback) -> bool:
        if not isinstance(error, DomainError) or isinstance(error, NotAllowed):
            return False
        self.error = error
        if self.form is not None:
            show_on_form(self.form, error)
        return True

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str:
        return self.error.message if self.error is not None else ""


def refusal(form=None) -> Refusal:
    """`with pages.refusal(form) as refused:` around a service call; see Refusal."""
    return Refusal(form)


def confirm_then_act(
    request: HttpRequest,
    *,
    confirm: Callable[[], HttpResponse],
    act: Callable[[], object],
    done: Callable[[], HttpResponse],
    refused: Callable[[DomainError], HttpResponse] | None = None,
) -> HttpResponse:
    """The one flow of stop, delete and remove: a GET (any method but POST) answers `confirm()`, the question with
    what will happen; a POST runs `act()` (the service call) and answers `done()`, or `refused(error)` when the
    service refuses in the object's current state. Without `refused` the service is not expected to refuse: a
    refusal goes up like any error. NotAllowed always goes up, to `organisation_page` (403)."""
    if request.method != "POST":
        return confirm()
    if refused is None:
        act()
        return done()
    with refusal() as refused_by_service:
        act()
    if refused_by_service.error is not None:
        return refused(refused_by_service.error)
    return done()


class FormRenderer(TemplatesSetting):
    """Every form of the portal shows its fields one way: `{{ form }}` renders portal/form.html (the errors that
    belong to no field, then each field) and `{{ form.name.as_field_group }}` renders portal/field.html (label,
    widget, help, errors), for a page that lays its fields out itself. Templates come from the project's engine, so
    a page's template and a field's share one set of templates."""

    form_template_name = "portal/form.html"
    field_template_name = "portal/field.html"


def form_refused(form) -> HttpResponseBadRequest:
    """400 for a download whose form is invalid (a crafted filter or period): a file of something else than what was
    asked would mislead, so the answer says, field by field, what is wrong."""
    lines = [f"{form[name].label}: {' '.join(errors)}" for name, errors in form.errors.items() if name in form.fields]
    return HttpResponseBadRequest("\n".join(lines), content_type="text/plain; charset=utf-8")
