from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("export.csv", views.referral_export, name="referral_export"),
    path("new/", views.referral_new, name="referral_new"),
    path("new/checklist/", views.referral_new_checklist, name="referral_new_checklist"),
    path("board/", views.board, name="board"),
    path("stages/", views.stage_list, name="stage_list"),
    path("stages/add/", views.stage_add, name="stage_add"),
    path("stages/<int:pk>/", views.stage_update, name="stage_update"),
    path("stages/<int:pk>/reorder/", views.stage_reorder, name="stage_reorder"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("criteria/", views.criteria, name="criteria"),
    path("criteria/add/", views.criterion_add, name="criterion_add"),
    path("criteria/<int:pk>/", views.criterion_update, name="criterion_update"),
    path(
        "criteria/<int:pk>/reorder/",
        views.criterion_reorder,
        name="criterion_reorder",
    ),
    path("criteria/statements/add/", views.statement_add, name="statement_add"),
    path(
        "criteria/statements/<int:pk>/",
        views.statement_update,
        name="statement_update",
    ),
    path("criteria/thresholds/", views.thresholds_update, name="thresholds_update"),
    path("card/", views.card, name="card"),
    path("card/renew/", views.card_renew, name="card_renew"),
    path("<int:pk>/", views.referral_detail, name="referral_detail"),
    path("<int:pk>/edit/", views.referral_edit, name="referral_edit"),
    path("<int:pk>/move/", views.referral_move_view, name="referral_move"),
    path("<int:pk>/assess/", views.referral_assess_view, name="referral_assess"),
    path("<int:pk>/outcome/", views.referral_outcome, name="referral_outcome"),
    path("<int:pk>/activities/", views.activity_add_view, name="activity_add"),
]
