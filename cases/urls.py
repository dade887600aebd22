from django.urls import path

from cases import views

app_name = "cases"

urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/export.csv", views.case_export, name="export"),
    path("cases/<int:case_number>/", views.case_detail, name="detail"),
    path("debtors/<path:customer_number>/", views.debtor_detail, name="debtor"),
]
