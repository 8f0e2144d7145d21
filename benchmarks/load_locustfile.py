"""Locust users for benchmarks/load_bench.py: alice, bella and olivia walking their main pages and API calls.

Not run by itself: load_bench.py prepares the database, logs the three personas in once (their session cookies
and the sample of credit codes, runs and search terms are in the JSON file named by TWINCITY_LOAD_PLAN) and runs
`locust --headless` with this file. Each simulated user is one of the three personas (in equal numbers) and
requests its pages back to back (no think time unless TWINCITY_THINK_MS is set); static files are not requested
(browsers keep them: they are served with a year's immutable cache headers). A page answered with anything but
200, or with the login page, counts as an error.
"""

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

PLAN = json.loads(Path(os.environ["TWINCITY_LOAD_PLAN"]).read_text(encoding="utf-8"))
THINK = int(os.environ.get("TWINCITY_THINK_MS", "0")) / 1000


class Persona(FastHttpUser):
    abstract = True
    username = ""
    wait_time = constant(THINK)
    # One connection per simulated user, kept alive, as a browser does.
    concurrency = 1

    def on_start(self) -> None:
        self.headers = {"Cookie": PLAN["cookies"][self.username], "Accept-Language": "zh-hans"}
        self.random = random.Random(f"{self.username}-{id(self)}")

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif "/accounts/login/" in (response.headers.get("Location") or ""):
                response.failure("sent to the login page")
            else:
                response.success()

    def code(self) -> str:
        return self.random.choice(PLAN["codes"])

    def term(self) -> str:
        return self.random.choice(PLAN["terms"])

    def registry_list(self) -> None:
        r = self.random
        choice = r.randrange(4)
        if choice == 0:
            self.get("/enterprises/", "/enterprises/")
        elif choice == 1:
            self.get(f"/enterprises/?q={self.term()}", "/enterprises/?q=")
        elif choice == 2:
            self.get(f"/enterprises/?city={r.choice(PLAN['cities'])}&industry_cluster={r.choice(PLAN['clusters'])}"
                     f"&ordering={r.choice(PLAN['orderings'])}&page={r.randint(1, 5)}",
                     "/enterprises/?city=&industry_cluster=&ordering=&page=")
        else:
            self.get(f"/enterprises/?qualification={r.choice(PLAN['qualifications'])}",
                     "/enterprises/?qualification=")


class Alice(Persona):
    """The enterprise user: her company's profile, points and their API."""

    username = "alice"

    @task(2)
    def home(self) -> None:
        self.get("/", "/ (alice)")

    @task(3)
    def enterprise(self) -> None:
        self.get(f"/enterprises/{PLAN['alice_code']}/", "/enterprises/[code]/ (alice)")

    @task(3)
    def points(self) -> None:
        self.get(f"/points/enterprises/{PLAN['alice_code']}/", "/points/enterprises/[code]/ (alice)")

    @task(1)
    def standards(self) -> None:
        self.get("/points/standards/", "/points/standards/")

    @task(2)
    def api_points(self) -> None:
        self.get(f"/api/points/enterprises/{PLAN['alice_code']}", "/api/points/enterprises/[code] (alice)")

    @task(1)
    def api_me(self) -> None:
        self.get("/api/accounts/me", "/api/accounts/me")


class Bella(Persona):
    """The credit officer: the registry, its search and filters, profiles, the API search."""

    username = "bella"

    @task(1)
    def home(self) -> None:
        self.get("/", "/ (bella)")

    @task(4)
    def registry(self) -> None:
        self.registry_list()

    @task(4)
    def enterprise(self) -> None:
        self.get(f"/enterprises/{self.code()}/", "/enterprises/[code]/")

    @task(2)
    def api_search(self) -> None:
        self.get(f"/api/enterprises/?q={self.term()}", "/api/enterprises/?q=")

    @task(1)
    def api_me(self) -> None:
        self.get("/api/accounts/me", "/api/accounts/me")


class Olivia(Persona):
    """The administrator: registry, points of any enterprise, scoring runs, standards, the audit trail."""

    username = "olivia"

    @task(1)
    def home(self) -> None:
        self.get("/", "/ (olivia)")

    @task(2)
    def registry(self) -> None:
        self.registry_list()

    @task(2)
    def enterprise(self) -> None:
        self.get(f"/enterprises/{self.code()}/", "/enterprises/[code]/")

    @task(2)
    def points(self) -> None:
        self.get(f"/points/enterprises/{self.code()}/", "/points/enterprises/[code]/")

    @task(1)
    def runs(self) -> None:
        self.get("/points/runs/", "/points/runs/")

    @task(1)
    def run_detail(self) -> None:
        self.get(f"/points/runs/{self.random.choice(PLAN['runs'])}/", "/points/runs/[id]/")

    @task(1)
    def standards(self) -> None:
        self.get("/points/standards/", "/points/standards/")

    @task(1)
    def audit(self) -> None:
        self.get("/audit/", "/audit/")

    @task(1)
    def api_search(self) -> None:
        self.get(f"/api/enterprises/?q={self.term()}", "/api/enterprises/?q=")

    @task(1)
    def api_points(self) -> None:
        self.get(f"/api/points/enterprises/{self.code()}", "/api/points/enterprises/[code]")

    @task(1)
    def api_runs(self) -> None:
        self.get("/api/points/runs", "/api/points/runs")

    @task(1)
    def api_me(self) -> None:
        self.get("/api/accounts/me", "/api/accounts/me")
