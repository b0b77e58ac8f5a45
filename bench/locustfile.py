"""Locust users for `make bench`: one class per page, run one at a time.

Each simulated user logs in once (a real login form post, CSRF included) and
then requests its page as fast as the server answers. FastHttpUser: locust
shares the 2 cores with the server it measures, and its geventhttpclient
client costs a fraction of the CPU of the requests-based HttpUser.
"""

import os
import random
import re

from locust import FastHttpUser, constant, task

PASSWORD = "bench"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class LoggedIn(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    email = ""

    def on_start(self):
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


class DashboardTeam(LoggedIn):
    email = "manager01@bench.example"

    @task
    def dashboard(self):
        self.client.get(
            "/dashboard/?period=last_90", name="/dashboard/ team, last 90 days"
        )


class DashboardAll(LoggedIn):
    email = "admin@bench.example"

    @task
    def dashboard(self):
        self.client.get(
            "/dashboard/?period=this_year", name="/dashboard/ all, this year"
        )


class DashboardAllCounted(LoggedIn):
    """Every team's figures counted on each visit (the server runs with
    DASHBOARD_SNAPSHOT_SECONDS=0): what one count costs."""

    email = "admin@bench.example"

    @task
    def dashboard(self):
        self.client.get(
            "/dashboard/?period=this_year", name="/dashboard/ all, this year, counted"
        )


class Board(LoggedIn):
    email = "rep0101@bench.example"

    @task
    def board(self):
        self.client.get("/referrals/board/", name="/referrals/board/")


class ReferralList(LoggedIn):
    email = "rep0101@bench.example"

    @task
    def referral_list(self):
        self.client.get("/referrals/", name="/referrals/")


class PartnerList(LoggedIn):
    email = "rep0101@bench.example"

    @task
    def partner_list(self):
        self.client.get("/partners/", name="/partners/")


class TodayManager(LoggedIn):
    """Not a page of the targets: the one a manager lands on."""

    email = "manager01@bench.example"

    @task
    def today(self):
        self.client.get("/", name="/ (Today), manager")


class LogReferral(LoggedIn):
    email = "rep0101@bench.example"
    source = os.environ.get("BENCH_SOURCE_ID", "")

    def on_start(self):
        super().on_start()
        self.token = CSRF.search(
            self.client.get("/referrals/new/", name="form").text
        ).group(1)

    @task
    def log_referral(self):
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
            name="/referrals/new/ POST",
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
