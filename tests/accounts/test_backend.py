"""The user of each request is loaded with their team and role in one query,
and the role is the same one the model works out."""

from django.contrib.auth.models import Group

from accounts.models import ADMIN, MANAGER, REP, User


def test_each_request_loads_the_user_with_team_and_role_in_one_query(
    client, alice, django_assert_num_queries
):
    client.force_login(alice)
    # session, the user with team and role; then the page's own queries
    with django_assert_num_queries(2):
        response = client.get("/accounts/profile/")
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert (user.role, user.team.name) == (REP, "North")
    page = response.content.decode()
    assert "Alice Rep · Rep · North" in page  # the navigation shows both


def test_the_role_is_the_strongest_one(client, alice, carol, admin):
    both = Group.objects.get(name=MANAGER)
    alice.groups.add(both, Group.objects.get(name=ADMIN))
    for user, role in ((alice, ADMIN), (carol, MANAGER), (admin, ADMIN)):
        client.force_login(user)
        loaded = client.get("/accounts/profile/").wsgi_request.user
        assert loaded.role == User.objects.get(pk=user.pk).role == role, user


def test_a_deactivated_user_is_signed_out(client, alice):
    client.force_login(alice)
    alice.is_active = False
    alice.save()
    response = client.get("/referrals/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
