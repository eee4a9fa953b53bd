"""Attack drill: guessing a curator's password at /admin/login/ is stopped after a few tries (django-axes),
for that username from that address, and a curator or an operator can unlock it."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from rest_framework.settings import api_settings

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple 41"


@pytest.fixture
def carol() -> User:
    user = User.objects.create_user("carol", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="curators"))
    return user


def attempt(client, password: str, *, username: str = "carol", address: str = "198.51.100.7", **headers):
    """One real POST of the admin's login form (CSRF checks on, as in production)."""
    client.get(LOGIN, REMOTE_ADDR=address)
    token = client.cookies["csrftoken"].value
    return client.post(
        LOGIN,
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


@pytest.fixture
def browser(client):
    client.handler.enforce_csrf_checks = True
    return client


def test_the_defaults_lock_a_username_at_an_address_after_five_failures_for_an_hour():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 3600
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_wrong_passwords_lock_the_account_at_that_address_even_for_the_right_password(browser, carol):
    statuses = [attempt(browser, f"guess-{i}").status_code for i in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]  # the form again, with an error
    assert statuses[4] == 429  # the fifth failure locks
    locked = attempt(browser, PASSWORD)
    assert locked.status_code == 429
    assert b"Sign-in locked" in locked.content
    assert b"axes_reset_username carol" in locked.content
    assert "_auth_user_id" not in browser.session


def test_the_lock_is_per_username_and_address(browser, carol):
    User.objects.create_user("dave", password=PASSWORD, is_staff=True)
    for i in range(5):
        attempt(browser, f"guess-{i}")
    # Another address, or another user at the same address, can still sign in.
    other_address = attempt(browser, PASSWORD, address="203.0.113.9")
    assert other_address.status_code == 302 and other_address["Location"] == "/admin/"
    browser.logout()
    other_user = attempt(browser, PASSWORD, username="dave")
    assert other_user.status_code == 302


def test_a_rotated_x_forwarded_for_does_not_escape_the_lock(browser, carol):
    assert api_settings.NUM_PROXIES == 0
    for i in range(5):
        attempt(browser, f"guess-{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert attempt(browser, PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429


def test_behind_a_trusted_proxy_the_lock_follows_the_address_the_proxy_saw(browser, carol, monkeypatch):
    monkeypatch.setattr(api_settings, "NUM_PROXIES", 1)
    for i in range(5):
        attempt(browser, f"guess-{i}", address="10.1.1.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    # The same client through the proxy stays locked; another client behind the same proxy does not.
    assert attempt(browser, PASSWORD, address="10.1.1.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert attempt(browser, PASSWORD, address="10.1.1.1", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


def test_a_success_before_the_limit_clears_the_count(browser, carol):
    for i in range(4):
        attempt(browser, f"guess-{i}")
    assert attempt(browser, PASSWORD).status_code == 302
    browser.logout()
    for i in range(4):
        assert attempt(browser, f"again-{i}").status_code == 200


def test_another_curator_unlocks_a_colleague_in_the_admin(browser, carol, client):
    for i in range(5):
        attempt(browser, f"guess-{i}")
    [locked] = AccessAttempt.objects.filter(username="carol")
    dora = User.objects.create_user("dora", password=PASSWORD, is_staff=True)
    dora.groups.add(Group.objects.get(name="curators"))
    helper = browser.__class__(enforce_csrf_checks=False)
    helper.force_login(dora)
    listing = helper.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and b"carol" in listing.content
    confirmed = helper.post(f"/admin/axes/accessattempt/{locked.pk}/delete/", {"post": "yes"})
    assert confirmed.status_code == 302
    assert attempt(browser, PASSWORD).status_code == 302


def test_an_operator_unlocks_with_the_management_command(browser, carol, capsys):
    for i in range(5):
        attempt(browser, f"guess-{i}")
    call_command("axes_reset_username", "carol")
    assert "attempts removed" in capsys.readouterr().out
    assert attempt(browser, PASSWORD).status_code == 302
