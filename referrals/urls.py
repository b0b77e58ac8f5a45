from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("export.csv", views.referral_export, name="referral_export"),
    path("new/", views.referral_new, name="referral_new"),
    path("board/", views.board, name="board"),
    path("stages/", views.stage_list, name="stage_list"),
    path("stages/add/", views.stage_add, name="stage_add"),
    path("stages/<int:pk>/", views.stage_update, name="stage_update"),
    path("stages/<int:pk>/reorder/", views.stage_reorder, name="stage_reorder"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("<int:pk>/", views.referral_detail, name="referral_detail"),
    path("<int:pk>/edit/", views.referral_edit, name="referral_edit"),
    path("<int:pk>/move/", views.referral_move_view, name="referral_move"),
    path("<int:pk>/activities/", views.activity_add_view, name="activity_add"),
]
