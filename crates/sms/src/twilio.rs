//! Twilio: form-encoded webhooks signed with `X-Twilio-Signature` = base64 HMAC-SHA1
//! (auth token) over the public URL followed by every POST parameter as name + value,
//! sorted by name. JSON bodies are signed over the URL only; the URL carries
//! `bodySHA256`, the hex SHA-256 of the body. Status callbacks are the same kind of
//! request with `MessageStatus`.

use crate::config::TwilioConfig;
use crate::send::{OutgoingSms, SendRequest, basic_auth, form_body};
use crate::webhook::*;
use crate::{ProviderKind, secret};
use base64::Engine;
use hmac::{Hmac, Mac};
use loket_core::DeliveryStatus;

pub struct Twilio {
    pub cfg: TwilioConfig,
}

/// The string Twilio signs: URL, then `name value` of each parameter sorted by name
/// (and, for a repeated name, by value).
pub fn signing_string(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut s = url.to_owned();
    for (k, v) in sorted {
        s.push_str(k);
        s.push_str(v);
    }
    s
}

pub fn signature(token: &[u8], data: &str) -> String {
    // HMAC takes a key of any length, so new_from_slice cannot fail.
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token).unwrap_or_else(|_| unreachable!());
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The URL with and without the scheme's default port: Twilio's own validators accept
/// both, because proxies differ in what they pass on.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if let Some(rest) = url.strip_prefix(scheme) {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if let Some(bare) = host.strip_suffix(port) {
                out.push(format!("{scheme}{bare}{path}"));
            } else if !host.contains(':') {
                out.push(format!("{scheme}{host}{port}{path}"));
            }
        }
    }
    out
}

fn map_status(s: &str) -> Option<DeliveryStatus> {
    Some(match s {
        "accepted" | "queued" | "scheduled" => DeliveryStatus::Queued,
        "sending" => DeliveryStatus::Sending,
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "undelivered" | "failed" | "canceled" => DeliveryStatus::Failed,
        _ => return None,
    })
}

impl SmsProvider for Twilio {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Twilio
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), Refusal> {
        let given = req
            .header("x-twilio-signature")
            .ok_or(Refusal::Missing("X-Twilio-Signature header"))?;
        let token = self.cfg.auth_token.bytes();
        let params = if req.is_json() {
            let query = form(req.query.as_bytes());
            let claimed = param(&query, "bodySHA256")
                .ok_or_else(|| Refusal::BadSignature("JSON body without bodySHA256".into()))?;
            if !secret::same(claimed.as_bytes(), sha256_hex(req.body).as_bytes()) {
                return Err(Refusal::BadSignature(
                    "bodySHA256 does not match the body".into(),
                ));
            }
            Vec::new()
        } else {
            form(req.body)
        };
        let ok = url_variants(req.url).iter().any(|url| {
            secret::same(
                signature(token, &signing_string(url, &params)).as_bytes(),
                given.as_bytes(),
            )
        });
        if ok {
            Ok(())
        } else {
            Err(Refusal::BadSignature(
                "X-Twilio-Signature does not match".into(),
            ))
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Webhook, Refusal> {
        let p: Vec<(String, String)> = if req.is_json() {
            flat_json(req.body)?
        } else {
            form(req.body)
        };
        let sid = param(&p, "MessageSid")
            .or_else(|| param(&p, "SmsSid"))
            .ok_or_else(|| Refusal::malformed("MessageSid is missing"))?;
        if let Some(status) = param(&p, "MessageStatus").filter(|s| *s != "received") {
            let status = map_status(status)
                .ok_or_else(|| Refusal::malformed(format!("unknown MessageStatus `{status}`")))?;
            let detail = param(&p, "ErrorCode").map(|c| format!("Twilio error {c}"));
            return Ok(Webhook::Status(StatusReport {
                provider_message_id: sid.to_owned(),
                status,
                detail,
            }));
        }
        let from = param(&p, "From").ok_or_else(|| Refusal::malformed("From is missing"))?;
        let to = param(&p, "To").unwrap_or_default();
        let media_count: usize = param(&p, "NumMedia")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let media = (0..media_count.min(10))
            .filter_map(|i| {
                Some(MediaRef {
                    url: param(&p, &format!("MediaUrl{i}"))?.to_owned(),
                    content_type: param(&p, &format!("MediaContentType{i}")).map(str::to_owned),
                })
            })
            .collect::<Vec<_>>();
        let text = p
            .iter()
            .find(|(k, _)| k == "Body")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Refusal::malformed("Body is missing"))?;
        Ok(Webhook::Inbound(InboundSms {
            provider_message_id: sid.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            text,
            sent_at: None,
            media,
            concat: None,
        }))
    }

    fn send_request(&self, sms: &OutgoingSms) -> SendRequest {
        let mut fields = vec![
            ("To", sms.to.as_str()),
            ("From", self.cfg.from.as_str()),
            ("Body", sms.text.as_str()),
        ];
        if let Some(cb) = &sms.status_callback_url {
            fields.push(("StatusCallback", cb.as_str()));
        }
        SendRequest {
            url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                self.cfg.api_base.trim_end_matches('/'),
                self.cfg.account_sid
            ),
            headers: vec![
                (
                    "Authorization".into(),
                    basic_auth(&self.cfg.account_sid, self.cfg.auth_token.expose()),
                ),
                (
                    "I-Twilio-Idempotency-Token".into(),
                    sms.idempotency_key.clone(),
                ),
            ],
            content_type: "application/x-www-form-urlencoded",
            body: form_body(&fields),
        }
    }

    fn sent_id(&self, body: &[u8]) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.get("sid")?.as_str().map(str::to_owned)
    }

    fn media_authorization(&self) -> Option<String> {
        Some(basic_auth(
            &self.cfg.account_sid,
            self.cfg.auth_token.expose(),
        ))
    }
}

/// A flat JSON object as (name, string value) pairs; nested values as their JSON text.
pub fn flat_json(body: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::malformed(format!("body is not JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| Refusal::malformed("body is not a JSON object"))?;
    Ok(obj
        .iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), s)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn twilio() -> Twilio {
        Twilio {
            cfg: TwilioConfig {
                account_sid: "ACtest".into(),
                auth_token: Secret::new("12345"),
                from: "+3197010000000".into(),
                api_base: "http://127.0.0.1:1".into(),
            },
        }
    }

    fn request<'a>(
        url: &'a str,
        body: &'a [u8],
        ct: &'a str,
        headers: &'a dyn Fn(&str) -> Option<String>,
    ) -> WebhookRequest<'a> {
        WebhookRequest {
            url,
            query: url.split_once('?').map(|(_, q)| q).unwrap_or(""),
            headers,
            body,
            content_type: ct,
            peer: None,
            now: 0,
            replay_window_secs: 300,
        }
    }

    // The example of Twilio's documentation of webhook security.
    #[test]
    fn the_documented_example_signature_verifies() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let body = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
        let sig = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        let h = move |n: &str| (n == "x-twilio-signature").then(|| sig.to_owned());
        let t = twilio();
        assert_eq!(
            t.verify(&request(url, body, "application/x-www-form-urlencoded", &h)),
            Ok(())
        );
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert!(matches!(
            t.verify(&request(
                url,
                &changed,
                "application/x-www-form-urlencoded",
                &h
            )),
            Err(Refusal::BadSignature(_))
        ));
        let none = |_: &str| None;
        assert_eq!(
            t.verify(&request(
                url,
                body,
                "application/x-www-form-urlencoded",
                &none
            )),
            Err(Refusal::Missing("X-Twilio-Signature header"))
        );
    }

    #[test]
    fn json_bodies_are_checked_against_body_sha256() {
        let body = br#"{"MessageSid":"SM1","From":"+31612345678","Body":"hoi"}"#;
        let url = format!("https://loket.example/hook?bodySHA256={}", sha256_hex(body));
        let sig = signature(b"12345", &url);
        let h = move |n: &str| (n == "x-twilio-signature").then(|| sig.clone());
        let t = twilio();
        assert_eq!(
            t.verify(&request(&url, body, "application/json", &h)),
            Ok(())
        );
        let tampered = br#"{"MessageSid":"SM1","From":"+31612345678","Body":"hoI"}"#;
        assert!(
            t.verify(&request(&url, tampered, "application/json", &h))
                .is_err()
        );
        match t.parse(&request(&url, body, "application/json", &h)) {
            Ok(Webhook::Inbound(m)) => {
                assert_eq!((m.text.as_str(), m.from.as_str()), ("hoi", "+31612345678"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn status_callbacks_and_media_are_read() {
        let none = |_: &str| None;
        let body = b"MessageSid=SM9&MessageStatus=delivered";
        let t = twilio();
        assert_eq!(
            t.parse(&request(
                "https://x/",
                body,
                "application/x-www-form-urlencoded",
                &none
            )),
            Ok(Webhook::Status(StatusReport {
                provider_message_id: "SM9".into(),
                status: DeliveryStatus::Delivered,
                detail: None
            }))
        );
        let body = b"MessageSid=SM8&From=0612345678&To=%2B3197010000000&Body=&NumMedia=1&MediaUrl0=http%3A%2F%2Fm%2F1&MediaContentType0=image%2Fjpeg&SmsStatus=received";
        match t.parse(&request(
            "https://x/",
            body,
            "application/x-www-form-urlencoded",
            &none,
        )) {
            Ok(Webhook::Inbound(m)) => {
                assert_eq!(m.media.len(), 1);
                assert_eq!(m.media[0].content_type.as_deref(), Some("image/jpeg"));
            }
            other => panic!("{other:?}"),
        }
    }
}
