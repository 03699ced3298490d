#!/usr/bin/python3
"""Test SMTP server for the email receiver (aiosmtpd from Debian's python3-aiosmtpd).

smtpd.py PORT OUTDIR MODE [CERT KEY] with MODE plain|starttls|tls.
Env: SMTP_USER/SMTP_PASSWORD require AUTH with those; SMTP_FAIL_FIRST=N answers the first N
DATA with 451 (transient). Each accepted message becomes OUTDIR/<n>.json; prints "ready".
"""
import asyncio, json, os, ssl, sys, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, outdir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
user, password = os.environ.get("SMTP_USER"), os.environ.get("SMTP_PASSWORD")
fail_first = int(os.environ.get("SMTP_FAIL_FIRST", "0"))
counter = itertools.count(1)
seen_data = itertools.count(1)

class Handler:
    async def handle_DATA(self, server, session, envelope):
        if next(seen_data) <= fail_first:
            return "451 4.3.0 try again later"
        n = next(counter)
        rec = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "auth_user": session.authenticated and getattr(session, "auth_data", None) and session.auth_data.login.decode(),
            "tls": mode == "tls" or session.ssl is not None,
        }
        tmp = os.path.join(outdir, f".{n}.tmp")
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(outdir, f"{n}.json"))
        return "250 2.0.0 queued as %d" % n

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)

kw = {}
if len(sys.argv) > 5:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    if mode == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    elif mode == "tls":
        kw.update(ssl_context=ctx)
if user:
    kw.update(authenticator=authenticator, auth_required=True, auth_require_tls=(mode == "starttls"))  # implicit TLS: aiosmtpd cannot tell

controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kw)
controller.start()
print("ready", flush=True)
try:
    asyncio.get_event_loop().run_forever() if False else sys.stdin.read()
finally:
    controller.stop()
