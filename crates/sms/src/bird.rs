//! Bird (MessageBird). Current scheme: `messagebird-signature` = base64 HMAC-SHA256
//! (signing key) over `timestamp \n url \n sha256(body)` (the hash as raw bytes), with
//! `messagebird-request-timestamp` in Unix seconds, refused when older than the replay
//! window. Legacy scheme: `MessageBird-Signature-JWT`, an HS256 JWT (same key) with
//! `iss = MessageBird`, `nbf`/`exp`, `url_hash` (hex SHA-256 of the URL) and, for a
//! non-empty body, `payload_hash` (hex SHA-256 of the body).

use crate::config::BirdConfig;
use crate::send::{OutgoingSms, SendRequest};
use crate::twilio::flat_json;
use crate::webhook::*;
use crate::{ProviderKind, secret};
use base64::Engine;
use hmac::{Hmac, Mac};
use loket_core::DeliveryStatus;
use serde::Deserialize;
use sha2::Digest;

pub struct Bird {
    pub cfg: BirdConfig,
}

pub fn hmac_signature(key: &[u8], timestamp: &str, url: &str, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so new_from_slice cannot fail.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(url.as_bytes());
    mac.update(b"\n");
    mac.update(&sha2::Sha256::digest(body));
    mac.finalize().into_bytes().to_vec()
}

#[derive(Deserialize)]
struct JwtClaims {
    url_hash: String,
    payload_hash: Option<String>,
}

impl Bird {
    fn verify_hmac(&self, req: &WebhookRequest<'_>, sig: &str) -> Result<(), Refusal> {
        let ts = req
            .header("messagebird-request-timestamp")
            .ok_or(Refusal::Missing("messagebird-request-timestamp header"))?;
        let secs: i64 = ts.trim().parse().map_err(|_| {
            Refusal::BadSignature("messagebird-request-timestamp is not a number".into())
        })?;
        if (req.now - secs).abs() > req.replay_window_secs {
            return Err(Refusal::Stale(format!(
                "messagebird-request-timestamp is {}s away from now",
                req.now - secs
            )));
        }
        let given = base64::engine::general_purpose::STANDARD
            .decode(sig.trim())
            .map_err(|_| Refusal::BadSignature("messagebird-signature is not base64".into()))?;
        let expected = hmac_signature(self.cfg.signing_key.bytes(), ts.trim(), req.url, req.body);
        if secret::same(&expected, &given) {
            Ok(())
        } else {
            Err(Refusal::BadSignature(
                "messagebird-signature does not match".into(),
            ))
        }
    }

    fn verify_jwt(&self, req: &WebhookRequest<'_>, token: &str) -> Result<(), Refusal> {
        use jsonwebtoken::errors::ErrorKind;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        // MessageBird's validators accept these three.
        v.algorithms = vec![
            jsonwebtoken::Algorithm::HS256,
            jsonwebtoken::Algorithm::HS384,
            jsonwebtoken::Algorithm::HS512,
        ];
        v.set_issuer(&["MessageBird"]);
        v.validate_nbf = true;
        v.leeway = 1;
        v.set_required_spec_claims(&["iss", "nbf", "exp"]);
        let key = jsonwebtoken::DecodingKey::from_secret(self.cfg.signing_key.bytes());
        let claims = jsonwebtoken::decode::<JwtClaims>(token.trim(), &key, &v)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                    Refusal::Stale(format!("MessageBird-Signature-JWT: {e}"))
                }
                _ => Refusal::BadSignature(format!("MessageBird-Signature-JWT: {e}")),
            })?
            .claims;
        if !secret::same(
            claims.url_hash.as_bytes(),
            sha256_hex(req.url.as_bytes()).as_bytes(),
        ) {
            return Err(Refusal::BadSignature(
                "MessageBird-Signature-JWT: url_hash does not match".into(),
            ));
        }
        let body_ok = match (&claims.payload_hash, req.body.is_empty()) {
            (Some(h), false) => secret::same(h.as_bytes(), sha256_hex(req.body).as_bytes()),
            (None, true) => true,
            _ => false,
        };
        if body_ok {
            Ok(())
        } else {
            Err(Refusal::BadSignature(
                "MessageBird-Signature-JWT: payload_hash does not match".into(),
            ))
        }
    }
}

fn map_status(s: &str) -> Option<DeliveryStatus> {
    Some(match s {
        "scheduled" | "buffered" | "accepted" | "pending" => DeliveryStatus::Queued,
        "sent" | "sending" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "delivery_failed" | "failed" | "expired" | "rejected" => DeliveryStatus::Failed,
        _ => return None,
    })
}

fn str_at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a str> {
    v.pointer(path)?.as_str().filter(|s| !s.is_empty())
}

impl SmsProvider for Bird {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Bird
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), Refusal> {
        if let Some(sig) = req.header("messagebird-signature") {
            return self.verify_hmac(req, &sig);
        }
        if let Some(jwt) = req.header("messagebird-signature-jwt") {
            return self.verify_jwt(req, &jwt);
        }
        Err(Refusal::Missing(
            "messagebird-signature or MessageBird-Signature-JWT header",
        ))
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Webhook, Refusal> {
        if req.is_json() {
            let v: serde_json::Value = serde_json::from_slice(req.body)
                .map_err(|e| Refusal::malformed(format!("body is not JSON: {e}")))?;
            // Bird's channels events: {"service":"channels","event":"sms.inbound","payload":{…}}
            if let Some(event) = str_at(&v, "/event") {
                let id = str_at(&v, "/payload/id")
                    .ok_or_else(|| Refusal::malformed("payload.id is missing"))?
                    .to_owned();
                return match event {
                    "sms.inbound" => Ok(Webhook::Inbound(InboundSms {
                        provider_message_id: id,
                        from: str_at(&v, "/payload/sender/contact/identifierValue")
                            .ok_or_else(|| Refusal::malformed("payload.sender is missing"))?
                            .to_owned(),
                        to: str_at(&v, "/payload/receiver/contacts/0/identifierValue")
                            .unwrap_or_default()
                            .to_owned(),
                        text: str_at(&v, "/payload/body/text/text")
                            .unwrap_or_default()
                            .to_owned(),
                        sent_at: str_at(&v, "/payload/createdAt").and_then(parse_time),
                        media: Vec::new(),
                        concat: None,
                    })),
                    "sms.outbound" => {
                        let status = str_at(&v, "/payload/status").unwrap_or_default();
                        Ok(Webhook::Status(StatusReport {
                            provider_message_id: id,
                            status: map_status(status).ok_or_else(|| {
                                Refusal::malformed(format!("unknown status `{status}`"))
                            })?,
                            detail: str_at(&v, "/payload/reason").map(str::to_owned),
                        }))
                    }
                    other => Ok(Webhook::Ignored(format!("Bird event {other}"))),
                };
            }
            return self.parse_flat(&flat_json(req.body)?);
        }
        self.parse_flat(&req.params())
    }

    fn send_request(&self, sms: &OutgoingSms) -> SendRequest {
        let mut body = serde_json::json!({
            "originator": self.cfg.from,
            "recipients": [sms.to.trim_start_matches('+')],
            "body": sms.text,
            "reference": sms.idempotency_key,
        });
        if let Some(cb) = &sms.status_callback_url {
            body["reportUrl"] = cb.clone().into();
        }
        let key = self
            .cfg
            .access_key
            .as_ref()
            .map(|k| k.expose())
            .unwrap_or_default();
        SendRequest {
            url: format!("{}/messages", self.cfg.api_base.trim_end_matches('/')),
            headers: vec![("Authorization".into(), format!("AccessKey {key}"))],
            content_type: "application/json",
            body: body.to_string().into_bytes(),
        }
    }

    fn sent_id(&self, body: &[u8]) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.get("id")?.as_str().map(str::to_owned)
    }
}

impl Bird {
    /// MessageBird's flat inbound (`originator`, `recipient`, `body`, `id`) and status
    /// report (`id`, `status`, `statusDatetime`) fields.
    fn parse_flat(&self, p: &[(String, String)]) -> Result<Webhook, Refusal> {
        let id = param(p, "id")
            .or_else(|| param(p, "message_id"))
            .ok_or_else(|| Refusal::malformed("id is missing"))?;
        let text = param(p, "body").or_else(|| param(p, "payload"));
        if let (Some(status), None) = (param(p, "status"), text) {
            return Ok(Webhook::Status(StatusReport {
                provider_message_id: id.to_owned(),
                status: map_status(status)
                    .ok_or_else(|| Refusal::malformed(format!("unknown status `{status}`")))?,
                detail: param(p, "statusReason").map(str::to_owned),
            }));
        }
        Ok(Webhook::Inbound(InboundSms {
            provider_message_id: id.to_owned(),
            from: param(p, "originator")
                .ok_or_else(|| Refusal::malformed("originator is missing"))?
                .to_owned(),
            to: param(p, "recipient").unwrap_or_default().to_owned(),
            text: text
                .ok_or_else(|| Refusal::malformed("body is missing"))?
                .to_owned(),
            sent_at: param(p, "createdDatetime").and_then(parse_time),
            media: Vec::new(),
            concat: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn bird() -> Bird {
        Bird {
            cfg: BirdConfig {
                signing_key: Secret::new("PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd"),
                access_key: None,
                from: "Gemeente".into(),
                api_base: "http://127.0.0.1:1".into(),
            },
        }
    }

    #[test]
    fn hmac_scheme_verifies_and_refuses_old_timestamps() {
        let url = "https://loket.example/api/v1/webhooks/sms/bird/demo";
        let body = br#"{"id":"m1","originator":"31612345678","body":"hoi"}"#;
        let sig = base64::engine::general_purpose::STANDARD.encode(hmac_signature(
            b"PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd",
            "1700000000",
            url,
            body,
        ));
        let h = move |n: &str| match n {
            "messagebird-signature" => Some(sig.clone()),
            "messagebird-request-timestamp" => Some("1700000000".into()),
            _ => None,
        };
        let mut req = WebhookRequest {
            url,
            query: "",
            headers: &h,
            body,
            content_type: "application/json",
            peer: None,
            now: 1_700_000_010,
            replay_window_secs: 300,
        };
        let b = bird();
        assert_eq!(b.verify(&req), Ok(()));
        match b.parse(&req) {
            Ok(Webhook::Inbound(m)) => assert_eq!(m.from, "31612345678"),
            other => panic!("{other:?}"),
        }
        req.now = 1_700_000_000 + 301;
        assert!(matches!(b.verify(&req), Err(Refusal::Stale(_))));
        req.now = 1_700_000_010;
        req.url = "https://loket.example/api/v1/webhooks/sms/bird/demO";
        assert!(matches!(b.verify(&req), Err(Refusal::BadSignature(_))));
    }
}
