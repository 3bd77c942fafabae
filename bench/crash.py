"""Uploads for bench/crash.sh: python3 bench/crash.py PORT ECG.json ACKED.txt first|retry"""
import concurrent.futures, http.client, json, sys, uuid

port, ecg_path, acked_path, phase = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ecg = open(ecg_path, "rb").read()


def call(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


_, data = call("POST", "/api/v1/auth/login",
               json.dumps({"username": "village-doctor", "password": "yijia-demo"}),
               {"content-type": "application/json"})
auth = {"authorization": "Bearer " + json.loads(data)["token"]}
_, me = call("GET", "/api/v1/me", headers=auth)
village = json.loads(me)["institution_id"]
_, found = call("GET", f"/api/v1/residents?village_clinic_id={village}&limit=1", headers=auth)
resident = json.loads(found)["items"][0]["id"]


def upload(key):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"resident_id\"\r\n\r\n{resident}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"recorded_at\"\r\n\r\n2026-11-23T08:00:00+08:00\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ecg.json\"\r\n\r\n").encode()
    body += ecg + f"\r\n--{boundary}--\r\n".encode()
    headers = dict(auth, **{"content-type": f"multipart/form-data; boundary={boundary}",
                            "idempotency-key": key})
    try:
        status, data = call("POST", "/api/v1/ecgs", body, headers)
        return key, status, json.loads(data).get("id") if status in (200, 201) else None
    except OSError:
        return key, None, None


keys = [f"crash-{n:04d}" for n in range(1000)]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    results = list(pool.map(upload, keys))
if phase == "first":
    with open(acked_path, "w") as out:
        for key, status, ecg_id in results:
            if status in (200, 201):
                out.write(f"{key} {ecg_id}\n")
    print(f"before the kill: {sum(1 for r in results if r[1] in (200, 201))} of 1000 acknowledged")
else:
    acked = dict(line.split() for line in open(acked_path))
    ids = {key: ecg_id for key, status, ecg_id in results}
    lost = [k for k, v in acked.items() if str(ids.get(k)) != v]
    statuses = [status for _, status, _ in results]
    _, page = call("GET", "/api/v1/ecg/inbox?limit=100", headers=auth)
    print(f"after the restart: retries answered {{200: {statuses.count(200)}, 201: {statuses.count(201)}}}, "
          f"acknowledged before and now a different ECG or missing: {len(lost)}, "
          f"distinct ECGs for 1000 keys: {len(set(ids.values()))}")
