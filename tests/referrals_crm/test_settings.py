"""Settings come from the environment; production refuses to start unsafe."""

from referrals_crm.settings import MISSING_SECRET_KEY
from tests.helpers import PRODUCTION_ENV, run_manage


def test_deploy_check_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides=PRODUCTION_ENV,
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_secret_key_when_debug_is_off(tmp_path):
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_manage("check", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert MISSING_SECRET_KEY in result.stderr


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    show = [
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
    ]
    first = run_manage(*show, env_overrides={"DEBUG": "true"}, tmp_path=tmp_path)
    second = run_manage(*show, env_overrides={"DEBUG": "true"}, tmp_path=tmp_path)
    key = (tmp_path / "secret_key").read_text().strip()
    assert len(key) >= 50
    assert first.stdout.split()[-1] == key == second.stdout.split()[-1]


def test_production_turns_on_https_hardening_and_smtp(tmp_path):
    show = [
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.EMAIL_BACKEND, s.EMAIL_TIMEOUT)",
    ]
    result = run_manage(*show, env_overrides=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.stdout.split()[-6:] == [
        "True",
        "True",
        "True",
        "31536000",
        "django.core.mail.backends.smtp.EmailBackend",
        "20",
    ]


def test_hardening_is_switchable_by_env(tmp_path):
    show = [
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT)",
    ]
    env = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "false"}
    result = run_manage(*show, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.split()[-1] == "False"


def test_email_url_configures_smtp(tmp_path):
    show = [
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT)",
    ]
    env = {"EMAIL_URL": "smtp://mailer.example.com:2525"}
    result = run_manage(*show, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.split()[-3:] == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mailer.example.com",
        "2525",
    ]


def test_a_negative_snapshot_age_is_refused(tmp_path):
    done = run_manage(
        "check", env_overrides={"DASHBOARD_SNAPSHOT_SECONDS": "-1"}, tmp_path=tmp_path
    )
    assert done.returncode != 0
    assert "DASHBOARD_SNAPSHOT_SECONDS must be 0 or more" in done.stderr


SHOW_SITE_URL = [
    "shell",
    "-c",
    "from django.conf import settings; print(settings.SITE_URL)",
]


def test_in_development_links_follow_the_port_make_run_serves(tmp_path):
    env = {"DEBUG": "true", "PORT": "8101"}
    result = run_manage(*SHOW_SITE_URL, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.split()[-1] == "http://127.0.0.1:8101"


def test_site_url_wins_over_the_port(tmp_path):
    env = {"DEBUG": "true", "PORT": "8101", "SITE_URL": "https://crm.example.com/"}
    result = run_manage(*SHOW_SITE_URL, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.split()[-1] == "https://crm.example.com"


def test_a_stuck_time_shorter_than_a_send_can_take_is_refused(tmp_path):
    too_short = {"TOUCHPOINT_STUCK_SECONDS": "40", "EMAIL_TIMEOUT": "20"}
    done = run_manage("check", env_overrides=too_short, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "TOUCHPOINT_STUCK_SECONDS is 40, but a send can take 20 s" in done.stderr
    assert "Set it above 40." in done.stderr
    enough = {"TOUCHPOINT_STUCK_SECONDS": "41", "EMAIL_TIMEOUT": "20"}
    assert run_manage("check", env_overrides=enough, tmp_path=tmp_path).returncode == 0
