"""Python with requests: the documentation's dashboard calls, then a booking, against the sandbox.

Run: API_BASE=http://127.0.0.1:8080/api python docs/examples/client_requests.py
"""

import hashlib
import hmac
import os

import requests

API_BASE = os.environ.get("API_BASE", "http://127.0.0.1:8080/api")
TOKEN = hmac.new(b"sandbox-secret-key-change-me", b"sandbox", hashlib.sha256).hexdigest()

session = requests.Session()
session.headers["Access-Token"] = TOKEN

info = session.get(f"{API_BASE}/").json()
today = session.get(f"{API_BASE}/statistics/appointments", params={"period": "today"}).json()
print("API:", info["data"]["status"], "- rendez-vous aujourd'hui:", today["data"]["summary"]["total_appointments"])

day = today["data"]["start_date"]
slots = session.get(f"{API_BASE}/slots", params={"calendar_id": 1, "date_from": day, "date_to": day}).json()["data"]
free = [s for s in slots if s["is_available"]]
if free:
    booked = session.post(
        f"{API_BASE}/appointment",
        json={
            "calendar_id": 1,
            "slot_id": free[-1]["slot_id"],
            "client_firstname": "Jean",
            "client_lastname": "Dupont",
            "client_email": "jean.dupont@example.com",
            "client_phone": "+33123456789",
        },
    ).json()
    print("Réservé:", booked["data"]["appointment"]["appointment_id"])
else:
    # The documented error codes arrive in the envelope, with the HTTP status.
    refused = session.post(f"{API_BASE}/appointment", json={"calendar_id": 1}).json()
    print("Refusé:", refused["error_code"])
