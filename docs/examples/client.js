// The documentation's JavaScript integration ("Intégration JavaScript"), pointed at the sandbox.
// Run: API_BASE=http://127.0.0.1:8080/api node docs/examples/client.js   (Node.js 18+: fetch is built in)
const crypto = require("crypto");

const API_BASE = process.env.API_BASE || "http://127.0.0.1:8080/api";
// The token recipe: hex HMAC-SHA256 of the account id, keyed with the secret key.
const ACCESS_TOKEN = crypto.createHmac("sha256", "sandbox-secret-key-change-me").update("sandbox").digest("hex");

async function apiRequest(endpoint, params = {}) {
    const url = new URL(`${API_BASE}/${endpoint}`);
    Object.keys(params).forEach(key => url.searchParams.append(key, params[key]));
    const response = await fetch(url, {
        headers: { "Access-Token": ACCESS_TOKEN, "Accept": "application/json" },
    });
    return response.json();
}

(async () => {
    const calendars = await apiRequest("calendars");
    console.log("Calendriers:", calendars.data.length);
    const stats = await apiRequest("statistics/appointments", { period: "last30days", calendar_id: 1 });
    console.log("Statistiques:", stats.data.summary.total_appointments);
    const clients = await apiRequest("clients", { search: "jean", per_page: 10 });
    console.log("Clients trouvés:", clients.pagination.total);
})();
