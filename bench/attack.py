"""The measurements of bench/attack.sh: python3 bench/attack.py PORT SERVER_PID DICOM."""
import http.client, json, random, struct, sys, threading, time, uuid

port, pid, dicom_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Peak:
    """Samples the server's RSS every 20 ms while running."""

    def __enter__(self):
        self.peak, self.running = rss_mb(), True
        self.thread = threading.Thread(target=self.sample)
        self.thread.start()
        return self

    def sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __exit__(self, *_):
        self.running = False
        self.thread.join()


def request(method, path, body=None, headers=None, source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def login_burst(sources):
    statuses = []
    def one(n):
        body = json.dumps({"username": f"nobody{n}", "password": "x"})
        status, _ = request("POST", "/api/v1/auth/login", body,
                            {"content-type": "application/json"}, sources[n % len(sources)])
        statuses.append(status)
    threads = [threading.Thread(target=one, args=(n,)) for n in range(300)]
    with Peak() as peak:
        for t in threads: t.start()
        for t in threads: t.join()
    return peak.peak, {s: statuses.count(s) for s in set(statuses)}


idle = rss_mb()
print(f"idle RSS: {idle:.0f} MB")
for label, sources in [("one address", ["127.0.0.1"]),
                       ("300 addresses", [f"127.0.{1 + n // 250}.{1 + n % 250}" for n in range(300)])]:
    peak, statuses = login_burst(sources)
    time.sleep(10)
    print(f"300 concurrent made-up logins from {label}: peak RSS {peak:.0f} MB, "
          f"10 s after {rss_mb():.0f} MB, answers {statuses}")

status, data = request("POST", "/api/v1/auth/login",
                       json.dumps({"username": "village-doctor", "password": "yijia-demo"}),
                       {"content-type": "application/json"}, "127.0.9.9")
token = json.loads(data)["token"]
auth = {"authorization": f"Bearer {token}"}
_, me = request("GET", "/api/v1/me", headers=auth)
village = json.loads(me)["institution_id"]
_, found = request("GET", f"/api/v1/residents?village_clinic_id={village}&limit=1", headers=auth)
resident = json.loads(found)["items"][0]["id"]

original = open(dicom_path, "rb").read()
rng = random.Random(7)
def damaged(n):
    data = bytearray(original)
    if n == 0:
        data[18638:18642] = struct.pack("<I", 240002)
    else:
        for _ in range(3):
            at = rng.randrange(132, 18640)
            data[at] ^= 1 << rng.randrange(8)
    return bytes(data)
files = [damaged(n) for n in range(300)]


def upload(data):
    boundary = uuid.uuid4().hex
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"resident_id\"\r\n\r\n{resident}\r\n",
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"recorded_at\"\r\n\r\n2026-11-23T08:00:00+08:00\r\n",
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ecg.dcm\"\r\n"
             "Content-Type: application/dicom\r\n\r\n"]
    body = "".join(parts).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = dict(auth)
    headers["content-type"] = f"multipart/form-data; boundary={boundary}"
    return request("POST", "/api/v1/ecgs", body, headers)[0]


latencies, stop = [], False
def probe():
    while not stop:
        started = time.perf_counter()
        request("GET", "/api/v1/me", headers=auth)
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.005)

before = rss_mb()
prober = threading.Thread(target=probe)
prober.start()
statuses = []
with Peak() as peak:
    for batch in range(0, len(files), 10):
        threads = [threading.Thread(target=lambda d=d: statuses.append(upload(d))) for d in files[batch:batch + 10]]
        for t in threads: t.start()
        for t in threads: t.join()
stop = True
prober.join()
latencies.sort()
p99 = latencies[int(len(latencies) * 0.99) - 1]
print(f"300 damaged DICOM uploads, ten at a time: peak RSS {peak.peak:.0f} MB "
      f"({peak.peak - before:+.0f} MB over {before:.0f}), answers "
      f"{ {s: statuses.count(s) for s in set(statuses)} }; GET /api/v1/me meanwhile: "
      f"{len(latencies)} requests, p50 {latencies[len(latencies) // 2]:.1f} ms, p99 {p99:.1f} ms")
