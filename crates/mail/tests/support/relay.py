"""Outbound relay for loket-mail tests: aiosmtpd on 127.0.0.1, one file per message.

Usage: relay.py OUTDIR [CERT KEY USER PASSWORD [implicit]] -> prints "PORT <n>" once listening.
With CERT/KEY/USER/PASSWORD the relay requires STARTTLS and AUTH (PLAIN/LOGIN); with
"implicit" as well it speaks TLS from the first byte (SMTPS, as on port 465) and requires
AUTH inside it. Each message is written as
OUTDIR/<n>.eml (the DATA content exactly as received, after dot-unstuffing) and
OUTDIR/<n>.json (envelope). A recipient starting with "fail-perm" gets 550, one starting
with "fail-temp" gets 451.
"""
import asyncio, json, os, socket, sys

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("fail-perm"):
            return "550 5.1.1 no such user"
        if address.startswith("fail-temp"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.outdir, "%06d" % self.n)
        data = envelope.original_content
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 accepted"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    port = free_port()
    kw = {}
    if len(sys.argv) >= 6:
        cert, key, user, password = sys.argv[2:6]
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok)

        if len(sys.argv) >= 7 and sys.argv[6] == "implicit":
            # The whole connection is TLS; aiosmtpd's STARTTLS bookkeeping does not apply.
            kw = dict(ssl_context=ctx, auth_required=True, auth_require_tls=False,
                      authenticator=authenticator)
        else:
            kw = dict(tls_context=ctx, require_starttls=True, auth_required=True,
                      auth_require_tls=True, authenticator=authenticator)
    ctl = Controller(Handler(outdir), hostname="127.0.0.1", port=port, decode_data=False, **kw)
    ctl.start()
    print("PORT %d" % port, flush=True)
    try:
        sys.stdin.read()  # runs until the test closes our stdin (or kills us)
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
