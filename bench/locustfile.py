"""Locust users for `make bench`: one page at a time, as one user.

bench/load.py runs locust once per page and role, saying which in the
environment: BENCH_EMAIL (who signs in), BENCH_PATH (the page) and
BENCH_NAME (the name its requests are reported under). `Page` requests the
page; `LogReferral` posts the log-a-referral form (BENCH_SOURCE_ID,
BENCH_TODAY).

Each simulated user starts signed in, with a session of its own that
load.py opened (BENCH_SESSIONS, session keys, one per user): logging in
through the form costs a password hash, about a second of a core per user,
which would fall in the measured seconds. Without BENCH_SESSIONS a user logs
in through the form (CSRF included). Then it requests its page as fast as
the server answers. FastHttpUser: locust
shares the 2 cores with the server it measures, and its geventhttpclient
client costs a fraction of the CPU of the requests-based HttpUser.
"""

import itertools
import os
import random
import re
from http.cookiejar import Cookie

from locust import FastHttpUser, constant, task

PASSWORD = "bench"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
EMAIL = os.environ.get("BENCH_EMAIL", "rep0101@bench.example")
PATH = os.environ.get("BENCH_PATH", "/")
NAME = os.environ.get("BENCH_NAME", PATH)
SESSIONS = [key for key in os.environ.get("BENCH_SESSIONS", "").split(",") if key]
SESSION_COOKIE = os.environ.get("BENCH_SESSION_COOKIE", "sessionid")
_next_session = itertools.count()


def session_cookie(key: str, host: str) -> Cookie:
    return Cookie(
        version=0,
        name=SESSION_COOKIE,
        value=key,
        port=None,
        port_specified=False,
        domain=host,
        domain_specified=False,
        domain_initial_dot=False,
        path="/",
        path_specified=True,
        secure=False,
        expires=None,
        discard=True,
        comment=None,
        comment_url=None,
        rest={},
    )


class LoggedIn(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    email = EMAIL

    def on_start(self):
        if SESSIONS:
            key = SESSIONS[next(_next_session) % len(SESSIONS)]
            host = self.host.split("://", 1)[-1].split("/")[0].split(":")[0]
            self.client.cookiejar.set_cookie(session_cookie(key, host))
            return
        page = self.client.get("/accounts/login/", name="login form")
        token = CSRF.search(page.text).group(1)
        response = self.client.post(
            "/accounts/login/",
            {
                "username": self.email,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
            },
            name="login",
            allow_redirects=False,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login failed for {self.email}: {response.status_code}")


class Page(LoggedIn):
    """GET BENCH_PATH; anything but a 200 is an error (a redirect too: to the
    login page, it would time the wrong page)."""

    @task
    def page(self):
        with self.client.get(
            PATH, name=NAME, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}")


class LogReferral(LoggedIn):
    source = os.environ.get("BENCH_SOURCE_ID", "")

    def on_start(self):
        super().on_start()
        self.token = CSRF.search(
            self.client.get("/referrals/new/", name="form").text
        ).group(1)

    @task
    def log_referral(self):
        # The same fields as bench/load.py's referral_form (in process).
        n = random.randrange(10**12)
        with self.client.post(
            "/referrals/new/",
            {
                "csrfmiddlewaretoken": self.token,
                "source": self.source,
                "prospect_name": f"Load {n}",
                "prospect_email": f"load{n}@example.net",
                "prospect_company": f"Load Co {n}",
                "received_on": os.environ["BENCH_TODAY"],
                "new_source_kind": "customer",
                "estimated_value": "1000",
            },
            name=NAME,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"not logged: {response.status_code}")
        # A browser follows the redirect, and the referral's page shows
        # "Referral logged" and clears the messages cookie. This user does not
        # follow it, so it drops the cookie itself: kept, it would carry every
        # message of the run (hundreds), decoded and encoded again on each post.
        for cookie in list(self.client.cookiejar):
            if cookie.name == "messages":
                self.client.cookiejar.clear(cookie.domain, cookie.path, cookie.name)
