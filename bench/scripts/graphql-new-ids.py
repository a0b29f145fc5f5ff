# Server CPU per GraphQL view when every request brings a new id (a variable value never sent
# before), or the same id each time with FIXED=1. Usage: graphql-new-ids.py BEFORE_BIN AFTER_BIN
# (release builds of oxbase; two fresh data dirs, ports 18191 and 18192, 127.0.0.1 only).
import http.client, json, os, shutil, subprocess, sys, tempfile, time

def run(binary, port, n=3000, rounds=3):
    d = tempfile.mkdtemp()
    subprocess.run([binary, "superuser", "upsert", "a@example.com", "1234567890abc", "--dir", d + "/ox_data"], check=True, capture_output=True)
    p = subprocess.Popen([binary, "serve", "--dir", d + "/ox_data", "--http", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/api/health"); c.getresponse().read(); break
            except OSError: time.sleep(0.05)
        def call(method, path, body=None, token=None):
            h = {"content-type": "application/json"}
            if token: h["authorization"] = token
            c.request(method, path, json.dumps(body) if body is not None else None, h)
            r = c.getresponse(); return r.status, json.loads(r.read() or b"null")
        _, a = call("POST", "/api/collections/_superusers/auth-with-password", {"identity": "a@example.com", "password": "1234567890abc"})
        tok = a["token"]
        call("POST", "/api/collections", {"name": "notes", "type": "base", "viewRule": "", "listRule": "", "fields": [{"name": "text", "type": "text"}]}, tok)
        call("PATCH", "/api/settings", {"logs": {"maxDays": 0}}, tok)
        ids = []
        for i in range(n):
            s, r = call("POST", "/api/collections/notes/records", {"text": f"t{i}"}, tok); ids.append(r["id"])
        q = "query($id: ID!) { notes(id: $id) { id text } }"
        out = []
        for k in range(rounds):
            def cpu():
                f = open(f"/proc/{p.pid}/stat").read().split(")")[1].split(); return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
            c0, t0 = cpu(), time.time()
            for i in ids:
                s, r = call("POST", "/api/graphql", {"query": q, "variables": {"id": ids[0] if os.environ.get("FIXED") else i}})
                assert s == 200 and r["data"]["notes"]["id"] in (i, ids[0]), r
            out.append(((cpu() - c0) / n * 1e6, n / (time.time() - t0)))
        return out
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)

for name, b in [("before", sys.argv[1]), ("after", sys.argv[2])]:
    print(name, [f"{us:.0f} us CPU/req, {rps:.0f} req/s" for us, rps in run(b, 18191 if name == "before" else 18192)])
