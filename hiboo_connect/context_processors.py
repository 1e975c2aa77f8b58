"""Template context shared by every page."""


def csp_nonce(request):
    # django-htmx's {% htmx_script %} reads `csp_nonce` to let htmx run under the content security policy.
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
