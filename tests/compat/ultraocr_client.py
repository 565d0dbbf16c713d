"""A test client making exactly the calls of UltraOCR's official Python SDK.

nuveo/ultraocr-sdk-python is not on PyPI (its README installs it from git), so this
is its ``ultraocr/functions.py`` and ``helpers.py`` call for call: the same URLs
built as strings (``f"{base_url}/ocr/..."``), ``requests.post(json=...)`` with the
Bearer auth, ``requests.put(url, data=...)`` with no Authorization header, 200 as
the only accepted status, polling every ``interval`` s until ``done`` or ``error``
for ``timeout`` s. Two SDK bugs that make calls crash before they are sent
(``body.update(key, value)`` and ``params.update(key, value)`` with two arguments)
are written as the SDK means them, as its Go twin does.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import requests


class StatusError(Exception):
    """The SDK's ``InvalidStatusCodeException``."""

    def __init__(self, status: int, want: int, body: str = "") -> None:
        super().__init__(f"status {status}, wanted {want}: {body[:300]}")
        self.status = status
        self.body = body


class TimeoutError_(Exception):
    """The SDK's ``TimeoutException``."""


def _check(resp: requests.Response, want: int = 200) -> None:
    if resp.status_code != want:
        raise StatusError(resp.status_code, want, resp.text)


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


class Client:
    """``ultraocr.Client`` (the parts the tests use)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth_base_url: str,
        client_id: str = "",
        client_secret: str = "",
        token_expires: int = 60,
        auto_refresh: bool = False,
        timeout: int = 30,
        interval: float = 1,
    ) -> None:
        self.base_url, self.auth_base_url = base_url, auth_base_url
        self.client_id, self.client_secret = client_id, client_secret
        self.expires, self.auto_refresh = token_expires, auto_refresh
        self.timeout, self.interval = timeout, interval
        self.expires_at = datetime.now()
        self.token = ""

    def _auto(self) -> None:
        if self.auto_refresh and datetime.now() > self.expires_at:
            self.authenticate(self.client_id, self.client_secret, self.expires)

    def _post(self, url: str, json: Any = None, params: dict | None = None):
        self._auto()
        return requests.post(url, auth=BearerAuth(self.token), json=json, params=params, timeout=30)

    def _get(self, url: str, params: dict | None = None):
        self._auto()
        return requests.get(url, auth=BearerAuth(self.token), params=params, timeout=30)

    def authenticate(self, client_id: str, client_secret: str, expires: int = 60) -> None:
        data = {"ClientID": client_id, "ClientSecret": client_secret, "ExpiresIn": expires}
        resp = requests.post(f"{self.auth_base_url}/token", json=data, timeout=30)
        _check(resp)
        self.token = resp.json()["token"]
        self.expires_at = datetime.now() + timedelta(minutes=expires)

    def generate_signed_url(self, service, metadata=None, params=None, resource="job"):
        resp = self._post(f"{self.base_url}/ocr/{resource}/{service}", json=metadata, params=params)
        _check(resp)
        return resp.json()

    def send_job_single_step(self, service, file, metadata=None, params=None):
        body = {"metadata": metadata or {}, "data": file}
        resp = self._post(f"{self.base_url}/ocr/job/send/{service}", json=body, params=params)
        _check(resp)
        return resp.json()

    def _upload(self, url: str, data: Any) -> None:
        _check(requests.put(url, data=data, timeout=120))

    def send_job(self, service, file_path, metadata=None, params=None):
        res = self.generate_signed_url(service, metadata, params, "job")
        with open(file_path, "rb") as fh:
            self._upload(res["urls"]["document"], fh.read())
        return {"id": res.get("id"), "status_url": res.get("status_url")}

    def send_job_base64(self, service, file, metadata=None, params=None):
        params = {**(params or {}), "base64": "true"}
        res = self.generate_signed_url(service, metadata, params, "job")
        self._upload(res["urls"]["document"], file)
        return {"id": res.get("id"), "status_url": res.get("status_url")}

    def send_batch(self, service, file_path, metadata=None, params=None):
        res = self.generate_signed_url(service, metadata, params, "batch")
        with open(file_path, "rb") as fh:
            self._upload(res["urls"]["document"], fh.read())
        return {"id": res.get("id"), "status_url": res.get("status_url")}

    def get_batch_status(self, batch_id):
        resp = self._get(f"{self.base_url}/ocr/batch/status/{batch_id}")
        _check(resp)
        return resp.json()

    def get_job_result(self, batch_id, job_id):
        resp = self._get(f"{self.base_url}/ocr/job/result/{batch_id}/{job_id}")
        _check(resp)
        return resp.json()

    def wait_for_job_done(self, batch_id, job_id):
        start, res = time.time(), None
        while time.time() < start + self.timeout:
            res = self.get_job_result(batch_id, job_id)
            if res["status"] in ("done", "error"):
                break
            time.sleep(self.interval)
        if time.time() > start + self.timeout:
            raise TimeoutError_(res)
        return res

    def wait_for_batch_done(self, batch_id, wait_jobs=True):
        start, res = time.time(), None
        while time.time() < start + self.timeout:
            res = self.get_batch_status(batch_id)
            if res["status"] in ("done", "error"):
                break
            time.sleep(self.interval)
        if time.time() > start + self.timeout:
            raise TimeoutError_(res)
        if wait_jobs:
            for job in res["jobs"]:
                self.wait_for_job_done(batch_id, job["job_ksuid"])
        return res

    def get_jobs(self, start: str, end: str) -> list:
        url = f"{self.base_url}/ocr/job/results"
        params = {"startDate": start, "endtDate": end}
        jobs: list = []
        while True:
            resp = self._get(url, params=params)
            res = resp.json()
            jobs += res.get("jobs")
            token = res.get("nextPageToken")
            params["nextPageToken"] = token
            if not token:
                return jobs

    def get_job_info(self, job_id):
        resp = self._get(f"{self.base_url}/ocr/job/info/{job_id}")
        _check(resp)
        return resp.json()

    def get_batch_info(self, batch_id):
        resp = self._get(f"{self.base_url}/ocr/batch/info/{batch_id}")
        _check(resp)
        return resp.json()

    def get_batch_result(self, batch_id):
        resp = self._get(f"{self.base_url}/ocr/batch/result/{batch_id}", {"return": "request"})
        _check(resp)
        return resp.json()

    def get_batch_result_storage(self, batch_id, params=None):
        params = {**(params or {}), "return": "storage"}
        resp = self._get(f"{self.base_url}/ocr/batch/result/{batch_id}", params)
        _check(resp)
        return resp.json()
