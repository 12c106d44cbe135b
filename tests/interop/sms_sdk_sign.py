"""Signs SMS webhooks with the providers' own SDKs (PyPI: twilio, vonage, messagebird,
PyJWT) and posts each to a running loket: once, again (a duplicate), and with one byte
changed. Prints {provider: [status, status, status]} as JSON for the Rust test.

Arguments: BASE (where loket listens) PUBLIC (the public URL it is configured with).
Secrets come from the environment the test sets."""
import hashlib, json, os, sys, time, urllib.error, urllib.parse, urllib.request, uuid

import jwt
from messagebird.request_validator import RequestValidator as BirdValidator
from twilio.request_validator import RequestValidator as TwilioValidator
from vonage_http_client.auth import Auth as VonageAuth

base, public = sys.argv[1], sys.argv[2]
path = "/api/v1/webhooks/sms/{}/gemeente"


def post(p, body, headers):
    req = urllib.request.Request(base + p, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def flip(body):
    b = bytearray(body)
    b[-2] ^= 1
    return bytes(b)


def three(p, body, headers):
    return [post(p, body, headers), post(p, body, headers), post(p, flip(body), headers)]


out = {}
form = {"Content-Type": "application/x-www-form-urlencoded"}

params = {"MessageSid": "SMsdk0001", "From": "+31612345678", "To": "+3197010000000",
          "Body": "Vraag over afval", "NumMedia": "0"}
body = urllib.parse.urlencode(params).encode()
sig = TwilioValidator(os.environ["TWILIO_TOKEN"]).compute_signature(public + path.format("twilio"), params)
out["twilio"] = three(path.format("twilio"), body, {**form, "X-Twilio-Signature": sig})

auth = VonageAuth(api_key="vk", signature_secret=os.environ["VONAGE_SECRET"], signature_method="sha256")
signed = {"msisdn": "31612345679", "to": "3197010000000", "messageId": "0B00000001",
          "text": "Vraag over parkeren", "type": "text", "timestamp": str(int(time.time()))}
signed["sig"] = auth.sign_params(dict(signed))
out["vonage"] = three(path.format("vonage"), urllib.parse.urlencode(signed).encode(), form)

bbody = json.dumps({"id": "bird-sdk-1", "originator": "31612345670", "recipient": "3197010000000",
                    "body": "Vraag over paspoort"}).encode()
key = os.environ["BIRD_KEY"]
url = public + path.format("bird")
now = int(time.time())
token = jwt.encode({"iss": "MessageBird", "nbf": now, "exp": now + 60, "jti": str(uuid.uuid4()),
                    "url_hash": hashlib.sha256(url.encode()).hexdigest(),
                    "payload_hash": hashlib.sha256(bbody).hexdigest()}, key, algorithm="HS256")
BirdValidator(key).validate_signature(token, url, bbody)  # the SDK accepts what we post
out["bird"] = three(path.format("bird"), bbody, {"Content-Type": "application/json",
                                                  "MessageBird-Signature-JWT": token})
print(json.dumps(out))
