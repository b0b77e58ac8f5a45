from django.urls import path

from partners import views

urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("new/", views.partner_new, name="partner_new"),
    path("search/", views.partner_search, name="partner_search"),
    path("focus/", views.team_focus, name="team_focus"),
    path("<int:pk>/", views.partner_detail, name="partner_detail"),
    path("<int:pk>/edit/", views.partner_edit, name="partner_edit"),
    path("<int:pk>/outcomes/new/", views.outcome_new, name="outcome_new"),
    path("outcomes/<int:pk>/", views.outcome_edit, name="outcome_edit"),
    path("<int:pk>/given/new/", views.given_new, name="given_new"),
    path("given/<int:pk>/", views.given_edit, name="given_edit"),
]
