#!/usr/bin/env python3
"""Login burst against one server binary, for password-hashing memory: the server on core 0, this load
on the caller's core (run it under taskset -c 1). Prints logins/s and the server's RSS idle, peak (VmHWM),
after the burst and 2 s later.

    taskset -c 1 bench/login-burst.py path/to/orgbase [seconds=8] [threads=64]
"""
# Login burst against one server binary: RSS before, during and after (VmHWM = peak).
import json, os, subprocess, sys, tempfile, threading, time, urllib.request, socket
binary = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 8
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 64
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
d = tempfile.mkdtemp()
env = dict(os.environ, ORGBASE_ADMIN_EMAIL="root@burst.test", ORGBASE_ADMIN_PASSWORD="root-password-1",
           ORGBASE_MASTER_KEY="00" * 32, ORGBASE_RATE_LIMITS="off", ORGBASE_LOG="warn",
           ORGBASE_PURGE_INTERVAL_SECS="0")
p = subprocess.Popen(["taskset", "-c", "0", binary, "serve", "--bind", f"127.0.0.1:{port}",
                      "--database-url", f"sqlite://{d}/db.sqlite"], env=env,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(200):
    try:
        urllib.request.urlopen(base + "/readyz", timeout=1); break
    except Exception:
        time.sleep(0.1)
def rss():
    out = {}
    for line in open(f"/proc/{p.pid}/status"):
        if line.startswith(("VmRSS", "VmHWM")):
            k, v = line.split(":"); out[k] = int(v.split()[0]) // 1024
    return out
idle = rss()
body = json.dumps({"email": "root@burst.test", "password": "root-password-1"}).encode()
n = [0]; stop = time.time() + secs
def worker():
    while time.time() < stop:
        req = urllib.request.Request(base + "/api/v1/auth/login", data=body, headers={"content-type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=30).read(); n[0] += 1
        except Exception:
            pass
ts = [threading.Thread(target=worker) for _ in range(threads)]
t0 = time.time()
[t.start() for t in ts]; [t.join() for t in ts]
el = time.time() - t0
after = rss()
time.sleep(2)
later = rss()
p.terminate(); p.wait()
print(f"{binary}: {n[0]} logins in {el:.1f}s = {n[0]/el:.1f}/s on one core; RSS idle {idle['VmRSS']} MB, "
      f"peak {after['VmHWM']} MB, after burst {after['VmRSS']} MB, 2 s later {later['VmRSS']} MB")
