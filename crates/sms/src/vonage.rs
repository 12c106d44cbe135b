//! Vonage. SMS API webhooks carry `sig`: the parameters except `sig`, sorted by name, as
//! `&name=value` with `&` and `=` in values replaced by `_`; then MD5 of that string
//! followed by the signature secret (`md5hash`, the default) or an HMAC of it keyed by
//! the secret (MD5, SHA-1, SHA-256, SHA-512), in hex. A signed `timestamp` older than the
//! replay window is refused. Messages API webhooks carry `Authorization: Bearer <JWT>`,
//! HS256 with the signature secret, `iat` and `payload_hash` (hex SHA-256 of the body).
//! Long SMS arrive as parts with `concat-ref`/`concat-total`/`concat-part`.

use crate::config::{VonageConfig, VonageSigAlgorithm};
use crate::send::{OutgoingSms, SendRequest, form_body};
use crate::twilio::flat_json;
use crate::webhook::*;
use crate::{ProviderKind, secret};
use hmac::{Hmac, Mac};
use loket_core::DeliveryStatus;
use md5::Digest;
use serde::Deserialize;

pub struct Vonage {
    pub cfg: VonageConfig,
}

pub fn signing_string(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "sig").collect();
    sorted.sort();
    let mut s = String::new();
    for (k, v) in sorted {
        s.push('&');
        s.push_str(k);
        s.push('=');
        s.push_str(&v.replace(['&', '='], "_"));
    }
    s
}

fn hmac_hex<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> String {
    // HMAC takes a key of any length, so new_from_slice cannot fail.
    let mut mac = <M as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

pub fn sig(alg: VonageSigAlgorithm, secret: &[u8], params: &[(String, String)]) -> String {
    let s = signing_string(params);
    match alg {
        VonageSigAlgorithm::Md5hash => {
            let mut h = md5::Md5::new();
            h.update(s.as_bytes());
            h.update(secret);
            hex::encode(h.finalize())
        }
        VonageSigAlgorithm::Md5 => hmac_hex::<Hmac<md5::Md5>>(secret, s.as_bytes()),
        VonageSigAlgorithm::Sha1 => hmac_hex::<Hmac<sha1::Sha1>>(secret, s.as_bytes()),
        VonageSigAlgorithm::Sha256 => hmac_hex::<Hmac<sha2::Sha256>>(secret, s.as_bytes()),
        VonageSigAlgorithm::Sha512 => hmac_hex::<Hmac<sha2::Sha512>>(secret, s.as_bytes()),
    }
}

#[derive(Deserialize)]
struct JwtClaims {
    iat: i64,
    payload_hash: Option<String>,
    api_key: Option<String>,
}

impl Vonage {
    fn params(&self, req: &WebhookRequest<'_>) -> Result<Vec<(String, String)>, Refusal> {
        if req.is_json() {
            flat_json(req.body)
        } else {
            Ok(req.params())
        }
    }

    fn verify_jwt(&self, req: &WebhookRequest<'_>, token: &str) -> Result<(), Refusal> {
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_required_spec_claims::<&str>(&[]);
        v.validate_exp = false;
        let key = jsonwebtoken::DecodingKey::from_secret(self.cfg.signature_secret.bytes());
        let claims = jsonwebtoken::decode::<JwtClaims>(token.trim(), &key, &v)
            .map_err(|e| Refusal::BadSignature(format!("webhook JWT: {e}")))?
            .claims;
        if (req.now - claims.iat).abs() > req.replay_window_secs {
            return Err(Refusal::Stale(format!(
                "webhook JWT was issued {}s ago",
                req.now - claims.iat
            )));
        }
        if let Some(k) = &claims.api_key
            && k != &self.cfg.api_key
        {
            return Err(Refusal::BadSignature(
                "webhook JWT names another api_key".into(),
            ));
        }
        match &claims.payload_hash {
            Some(h) if secret::same(h.as_bytes(), sha256_hex(req.body).as_bytes()) => Ok(()),
            Some(_) => Err(Refusal::BadSignature(
                "webhook JWT: payload_hash does not match".into(),
            )),
            None if req.body.is_empty() => Ok(()),
            None => Err(Refusal::BadSignature(
                "webhook JWT without payload_hash".into(),
            )),
        }
    }
}

fn map_status(s: &str) -> Option<DeliveryStatus> {
    Some(match s {
        "accepted" | "buffered" | "submitted" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" | "rejected" | "expired" | "undeliverable" | "unknown" => DeliveryStatus::Failed,
        _ => return None,
    })
}

impl SmsProvider for Vonage {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Vonage
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), Refusal> {
        if let Some(auth) = req.header("authorization") {
            let token = auth.strip_prefix("Bearer ").ok_or_else(|| {
                Refusal::BadSignature("Authorization is not a bearer token".into())
            })?;
            return self.verify_jwt(req, token);
        }
        let params = self.params(req)?;
        let given = param(&params, "sig").ok_or(Refusal::Missing("sig parameter or bearer JWT"))?;
        let expected = sig(
            self.cfg.signature_method,
            self.cfg.signature_secret.bytes(),
            &params,
        );
        if !secret::same(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
            return Err(Refusal::BadSignature("sig does not match".into()));
        }
        if let Some(ts) = param(&params, "timestamp").and_then(|t| t.parse::<i64>().ok())
            && (req.now - ts).abs() > req.replay_window_secs
        {
            return Err(Refusal::Stale(format!(
                "signed timestamp is {}s old",
                req.now - ts
            )));
        }
        Ok(())
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Webhook, Refusal> {
        let p = self.params(req)?;
        // Messages API (JWT-signed): message_uuid.
        if let Some(uuid) = param(&p, "message_uuid") {
            if let Some(status) = param(&p, "status") {
                return Ok(Webhook::Status(StatusReport {
                    provider_message_id: uuid.to_owned(),
                    status: map_status(status)
                        .ok_or_else(|| Refusal::malformed(format!("unknown status `{status}`")))?,
                    detail: param(&p, "error").map(str::to_owned),
                }));
            }
            return Ok(Webhook::Inbound(InboundSms {
                provider_message_id: uuid.to_owned(),
                from: param(&p, "from")
                    .ok_or_else(|| Refusal::malformed("from is missing"))?
                    .to_owned(),
                to: param(&p, "to").unwrap_or_default().to_owned(),
                text: param(&p, "text").unwrap_or_default().to_owned(),
                sent_at: param(&p, "timestamp").and_then(parse_time),
                media: Vec::new(),
                concat: None,
            }));
        }
        let id =
            param(&p, "messageId").ok_or_else(|| Refusal::malformed("messageId is missing"))?;
        // A delivery receipt has a status and no text.
        if let (Some(status), None) = (param(&p, "status"), param(&p, "text")) {
            return Ok(Webhook::Status(StatusReport {
                provider_message_id: id.to_owned(),
                status: map_status(status)
                    .ok_or_else(|| Refusal::malformed(format!("unknown status `{status}`")))?,
                detail: param(&p, "err-code")
                    .filter(|c| *c != "0")
                    .map(|c| format!("Vonage err-code {c}")),
            }));
        }
        let concat = if param(&p, "concat") == Some("true") {
            let num = |name: &str| -> Result<u32, Refusal> {
                param(&p, name)
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| Refusal::malformed(format!("{name} is missing or not a number")))
            };
            let (total, part) = (num("concat-total")?, num("concat-part")?);
            if total == 0 || part == 0 || part > total || total > 255 {
                return Err(Refusal::malformed(format!("concat-part {part} of {total}")));
            }
            Some(ConcatPart {
                reference: param(&p, "concat-ref")
                    .ok_or_else(|| Refusal::malformed("concat-ref is missing"))?
                    .to_owned(),
                total,
                part,
            })
        } else {
            None
        };
        Ok(Webhook::Inbound(InboundSms {
            provider_message_id: id.to_owned(),
            from: param(&p, "msisdn")
                .ok_or_else(|| Refusal::malformed("msisdn is missing"))?
                .to_owned(),
            to: param(&p, "to").unwrap_or_default().to_owned(),
            text: p
                .iter()
                .find(|(k, _)| k == "text")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            sent_at: param(&p, "message-timestamp").and_then(parse_time),
            media: Vec::new(),
            concat,
        }))
    }

    fn send_request(&self, sms: &OutgoingSms) -> SendRequest {
        let secret = self
            .cfg
            .api_secret
            .as_ref()
            .map(|s| s.expose())
            .unwrap_or_default();
        let mut fields = vec![
            ("api_key", self.cfg.api_key.as_str()),
            ("api_secret", secret),
            ("from", self.cfg.from.as_str()),
            ("to", sms.to.trim_start_matches('+')),
            ("text", sms.text.as_str()),
            ("client-ref", sms.idempotency_key.as_str()),
        ];
        if crate::encoding::segments(&sms.text).encoding == crate::encoding::Encoding::Ucs2 {
            fields.push(("type", "unicode"));
        }
        if let Some(cb) = &sms.status_callback_url {
            fields.push(("callback", cb.as_str()));
        }
        SendRequest {
            url: format!("{}/sms/json", self.cfg.api_base.trim_end_matches('/')),
            headers: Vec::new(),
            content_type: "application/x-www-form-urlencoded",
            body: form_body(&fields),
        }
    }

    fn sent_id(&self, body: &[u8]) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.pointer("/messages/0/message-id")?
            .as_str()
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_string_sorts_and_replaces_separators() {
        let p = vec![
            ("text".to_owned(), "a=b&c".to_owned()),
            ("msisdn".to_owned(), "31612345678".to_owned()),
            ("sig".to_owned(), "x".to_owned()),
        ];
        assert_eq!(signing_string(&p), "&msisdn=31612345678&text=a_b_c");
        let md5 = sig(VonageSigAlgorithm::Md5hash, b"s", &p);
        let mut h = md5::Md5::new();
        h.update(b"&msisdn=31612345678&text=a_b_cs");
        assert_eq!(md5, hex::encode(h.finalize()));
        assert_ne!(
            sig(VonageSigAlgorithm::Sha256, b"s", &p),
            sig(VonageSigAlgorithm::Sha256, b"t", &p)
        );
    }
}
