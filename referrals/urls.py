from django.urls import path

from referrals import views

urlpatterns = [
    path("", views.referral_list, name="referral_list"),
    path("new/", views.referral_new, name="referral_new"),
    path("board/", views.board, name="board"),
    path("<int:pk>/", views.referral_detail, name="referral_detail"),
]
