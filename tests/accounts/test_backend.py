"""The user of each request is loaded with their team and role in one query,
and the role is the same one the model works out."""

from django.contrib.auth.models import Group

from accounts.backends import users_with_role
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


def test_the_loaded_role_follows_the_same_rule_as_the_model(
    client, alice, bob, carol, admin
):
    """The role's three versions held together, for each way a role comes
    about: User.role (Python), users_with_role() (the ORM's expression, for
    queries that pick users by role) and request_user_sql() (written out,
    loading the user of each request)."""
    Group.objects.create(name="Partners desk")  # a group that gives no role
    alice.groups.add(Group.objects.get(name="Partners desk"))  # still a rep
    bob.groups.add(Group.objects.get(name=MANAGER))
    admin.groups.clear()  # a superuser is an admin without any group
    superuser_manager = User.objects.create_superuser("root@example.com", "x")
    superuser_manager.groups.add(Group.objects.get(name=MANAGER))
    carol.groups.add(Group.objects.get(name=ADMIN))  # manager and admin: admin
    cases = (
        (alice, REP),
        (bob, MANAGER),
        (carol, ADMIN),
        (admin, ADMIN),
        (superuser_manager, ADMIN),
    )
    for user, role in cases:
        client.force_login(user)
        loaded = client.get("/accounts/profile/").wsgi_request.user
        in_python = User.objects.get(pk=user.pk).role
        in_a_query = users_with_role().get(pk=user.pk).role
        assert (loaded.role, in_python, in_a_query) == (role, role, role), user.email
    # Picking users by role filters on the same expression.
    managers = users_with_role().filter(role=MANAGER).values_list("email", flat=True)
    assert bob.email in managers and carol.email not in managers


def test_the_team_comes_with_the_user_and_a_user_without_one_has_none(
    client, alice, carol, django_assert_num_queries
):
    client.force_login(alice)
    loaded = client.get("/accounts/profile/").wsgi_request.user
    with django_assert_num_queries(0):
        assert (loaded.team.name, loaded.team.manager_id) == ("North", carol.pk)
    assert loaded.last_login == User.objects.get(pk=alice.pk).last_login
    assert not any(name.startswith("team__") for name in vars(loaded))

    client.force_login(carol)  # a manager of a team, not in one
    loaded = client.get("/accounts/profile/").wsgi_request.user
    with django_assert_num_queries(0):
        assert loaded.team is None
    assert (
        "Carol Manager · Manager" in client.get("/accounts/profile/").content.decode()
    )


def test_a_deleted_user_is_signed_out(client, alice):
    client.force_login(alice)
    alice.delete()
    response = client.get("/referrals/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
