<?php
// The documentation's PHP integration ("Intégration PHP complète"), pointed at the sandbox.
// Run: API_BASE=http://127.0.0.1:8080/api php docs/examples/client.php
class Tap4BookAPIv2 {
    private $baseUrl;
    private $accessToken;

    public function __construct($baseUrl, $accessToken) {
        $this->baseUrl = rtrim($baseUrl, '/');
        $this->accessToken = $accessToken;
    }

    public function request($endpoint, $params = []) {
        $url = $this->baseUrl . '/' . ltrim($endpoint, '/');
        if (!empty($params)) {
            $url .= '?' . http_build_query($params);
        }
        $context = stream_context_create([
            'http' => ['method' => 'GET', 'header' => "Access-Token: {$this->accessToken}\r\n"]
        ]);
        $response = file_get_contents($url, false, $context);
        if ($response === false) {
            throw new Exception('API request failed');
        }
        return json_decode($response, true);
    }

    public function getCalendars() { return $this->request('calendars'); }

    public function getAppointmentStats($period, $calendarId = null) {
        $params = ['period' => $period];
        if ($calendarId) { $params['calendar_id'] = $calendarId; }
        return $this->request('statistics/appointments', $params);
    }

    public function searchClients($search, $page = 1, $perPage = 50) {
        return $this->request('clients', ['search' => $search, 'page' => $page, 'per_page' => $perPage]);
    }
}

// The token recipe: hex HMAC-SHA256 of the account id, keyed with the secret key.
$token = hash_hmac('sha256', 'sandbox', 'sandbox-secret-key-change-me');
$api = new Tap4BookAPIv2(getenv('API_BASE') ?: 'http://127.0.0.1:8080/api', $token);
try {
    $calendars = $api->getCalendars();
    echo "Nombre de calendriers: " . count($calendars['data']) . "\n";
    $stats = $api->getAppointmentStats('last7days');
    echo "Rendez-vous cette semaine: " . $stats['data']['summary']['total_appointments'] . "\n";
    $clients = $api->searchClients('martin');
    echo "Clients trouvés: " . $clients['pagination']['total'] . "\n";
} catch (Exception $e) {
    echo "Erreur API: " . $e->getMessage() . "\n";
    exit(1);
}
