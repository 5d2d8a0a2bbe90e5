#!/usr/bin/env python3
"""The traces benchmark's client, one request at a time (what it measures is the gateway's CPU
per request, not the rate a client can reach): `session GATEWAY EMULATOR` prints a signed-in
browser's Cookie header; `proxied GATEWAY COOKIE N` fetches the cabinet's `/` N times on one
keep-alive connection; `logins GATEWAY EMULATOR N` signs in N times (JSON start, the phone
confirms at the emulator, JSON completion). Prints how many succeeded."""
import http.client
import json
import sys
from urllib.parse import urlsplit


def request(base, method, path, body=None, cookies=None):
    url = urlsplit(path if path.startswith("http") else base + path)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"content-type": "application/json"} if body is not None else {}
    if cookies:
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    target = url.path + (f"?{url.query}" if url.query else "")
    connection.request(method, target, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    data = response.read()
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            if cookies is not None:
                cookies[key] = val
    connection.close()
    return response.status, response.getheader("location"), data


def sign_in(gateway, emulator):
    cookies = {}
    status, _, data = request(gateway, "POST", "/.kepgate/api/login", {"provider": "diia", "return_path": "/"}, cookies)
    assert status == 201, f"start: {status}"
    answer = json.loads(data)
    link = answer["link"]
    if "/.kepgate/q/" in link:
        status, link, _ = request(gateway, "GET", link, cookies=cookies)
        assert status == 303, f"rotating link: {status}"
    number = link.rsplit("/", 1)[1]
    status, _, _ = request(emulator, "POST", f"/emulator/requests/{number}/confirm", {"identity": "person"})
    assert status < 300, f"confirm: {status}"
    status, _, _ = request(gateway, "POST", answer["complete_url"], {}, cookies)
    assert status == 200, f"complete: {status}"
    return cookies


def main():
    command, gateway = sys.argv[1], sys.argv[2]
    if command == "session":
        cookies = sign_in(gateway, sys.argv[3])
        print("; ".join(f"{k}={v}" for k, v in cookies.items()))
    elif command == "proxied":
        cookie, count = sys.argv[3], int(sys.argv[4])
        url = urlsplit(gateway)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        ok = 0
        for _ in range(count):
            connection.request("GET", "/", headers={"cookie": cookie})
            response = connection.getresponse()
            response.read()
            ok += response.status == 200
        print(ok)
    elif command == "logins":
        emulator, count = sys.argv[3], int(sys.argv[4])
        ok = 0
        for _ in range(count):
            try:
                sign_in(gateway, emulator)
                ok += 1
            except AssertionError as e:
                print(e, file=sys.stderr)
        print(ok)


if __name__ == "__main__":
    main()
