"""Python with httpx: CSV billing export and the error envelope, against the sandbox.

Run: API_BASE=http://127.0.0.1:8080/api python docs/examples/client_httpx.py
"""

import csv
import hashlib
import hmac
import io
import os

import httpx

API_BASE = os.environ.get("API_BASE", "http://127.0.0.1:8080/api")
TOKEN = hmac.new(b"sandbox-secret-key-change-me", b"sandbox", hashlib.sha256).hexdigest()

with httpx.Client(base_url=API_BASE, headers={"Access-Token": TOKEN}) as api:
    export = api.get("/appointments", params={"format": "csv", "per_page": 1000})
    rows = list(csv.DictReader(io.StringIO(export.text)))
    print("Lignes exportées:", len(rows), "sur", export.headers["X-Pagination-Total"])

    missing = api.get("/slots", params={"date_from": "2025-06-15"})
    print("Erreur:", missing.status_code, missing.json()["error_code"])  # 400 MISSING_CALENDAR_ID
