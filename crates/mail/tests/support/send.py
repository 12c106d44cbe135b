"""SMTP client for loket-mail tests (Python smtplib, a normal mail client).

Usage: send.py HOST PORT MAIL_FROM RCPT[,RCPT...] FILE [FILE...] [--starttls]
Sends each FILE's bytes as one message, all on one connection. smtplib dot-stuffs and
appends CRLF if the data does not end with one. Prints one JSON line per file:
{"file": ..., "code": n, "reply": "...", "stage": "mail|rcpt|data"} or {"error": "..."}.
"""
import json, smtplib, ssl, sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
starttls = "--starttls" in sys.argv
host, port, mail_from, rcpts = args[:4]
files = args[4:]


def out(**kw):
    print(json.dumps(kw), flush=True)


try:
    s = smtplib.SMTP(host, int(port), timeout=120)
    s.ehlo("client.example")
    if starttls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("client.example")
    for path in files:
        data = open(path, "rb").read()
        code, msg = s.mail(mail_from)
        if code != 250:
            out(file=path, code=code, reply=msg.decode(errors="replace"), stage="mail")
            s.rset()
            continue
        bad = None
        for r in rcpts.split(","):
            code, msg = s.rcpt(r)
            if code not in (250, 251):
                bad = (code, msg)
                break
        if bad:
            out(file=path, code=bad[0], reply=bad[1].decode(errors="replace"), stage="rcpt")
            s.rset()
            continue
        try:
            code, msg = s.data(data)
        except smtplib.SMTPDataError as e:
            code, msg = e.smtp_code, e.smtp_error
        out(file=path, code=code, reply=msg.decode(errors="replace"), stage="data")
    s.quit()
except smtplib.SMTPResponseException as e:
    out(code=e.smtp_code, reply=e.smtp_error.decode(errors="replace"), stage="exception")
except Exception as e:
    out(error=repr(e))
