"""Routes of the contracts in the portal. A contract is named by its id: a reference may be any text, "import"
included, and the import has its own path."""

from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="list"),
    path("import/", views.contract_import, name="import"),
    path("import/template.csv", views.contract_import_template, name="import_template"),
    path("<uuid:contract_id>/", views.contract_detail, name="detail"),
    path("<uuid:contract_id>/extend/", views.contract_action, {"action": "extend"}, name="extend"),
    path("<uuid:contract_id>/complete/", views.contract_action, {"action": "complete"}, name="complete"),
    path("<uuid:contract_id>/add/", views.contract_action, {"action": "add"}, name="add"),
    path("<uuid:contract_id>/swap/", views.contract_action, {"action": "swap"}, name="swap"),
]
