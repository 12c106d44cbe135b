//! CM.com. Its webhooks are not signed, so the URL carries a per-tenant secret
//! (`?key=…`, compared in constant time) and the tenant may restrict the source
//! addresses. Inbound is JSON (`from.number`, `to.number`, `message.text`, `reference`,
//! `timeUtc`); CM retries for up to a month, so the message is keyed on its `reference`.

use crate::config::CmConfig;
use crate::send::{OutgoingSms, SendRequest};
use crate::webhook::*;
use crate::{ProviderKind, secret};
use loket_core::DeliveryStatus;

pub struct Cm {
    pub cfg: CmConfig,
}

fn str_at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a str> {
    v.pointer(path)?.as_str().filter(|s| !s.is_empty())
}

impl SmsProvider for Cm {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Cm
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), Refusal> {
        let query = form(req.query.as_bytes());
        let key = param(&query, "key").ok_or(Refusal::Missing("key in the webhook URL"))?;
        if !secret::same(key.as_bytes(), self.cfg.webhook_key.bytes()) {
            return Err(Refusal::BadSignature(
                "the webhook key does not match".into(),
            ));
        }
        if !self.cfg.allowed_sources.is_empty() {
            match req.peer {
                Some(ip) if self.cfg.allowed_sources.contains(&ip) => {}
                Some(ip) => return Err(Refusal::Source(ip.to_string())),
                None => return Err(Refusal::Source("unknown".into())),
            }
        }
        Ok(())
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Webhook, Refusal> {
        let v: serde_json::Value = serde_json::from_slice(req.body)
            .map_err(|e| Refusal::malformed(format!("body is not JSON: {e}")))?;
        // Delivery reports: {"messages":{"msg":[{"reference":…,"status":{"code":2}}]}}.
        if let Some(msg) = v
            .pointer("/messages/msg/0")
            .or_else(|| v.pointer("/messages/msg"))
        {
            let reference = str_at(msg, "/reference")
                .ok_or_else(|| Refusal::malformed("messages.msg.reference is missing"))?;
            let code = msg.pointer("/status/code").and_then(|c| {
                c.as_i64()
                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            });
            let status = match code {
                Some(0) => DeliveryStatus::Sent,
                Some(2) => DeliveryStatus::Delivered,
                Some(1) | Some(3) => DeliveryStatus::Failed,
                other => return Err(Refusal::malformed(format!("unknown status code {other:?}"))),
            };
            return Ok(Webhook::Status(StatusReport {
                provider_message_id: reference.to_owned(),
                status,
                detail: str_at(msg, "/status/errorDescription").map(str::to_owned),
            }));
        }
        let reference = str_at(&v, "/reference")
            .or_else(|| str_at(&v, "/messageContext"))
            .ok_or_else(|| Refusal::malformed("reference is missing"))?;
        let media = v
            .pointer("/message/media/mediaUri")
            .and_then(|u| u.as_str())
            .map(|url| {
                vec![MediaRef {
                    url: url.to_owned(),
                    content_type: str_at(&v, "/message/media/mimeType").map(str::to_owned),
                }]
            })
            .unwrap_or_default();
        Ok(Webhook::Inbound(InboundSms {
            provider_message_id: reference.to_owned(),
            from: str_at(&v, "/from/number")
                .ok_or_else(|| Refusal::malformed("from.number is missing"))?
                .to_owned(),
            to: str_at(&v, "/to/number").unwrap_or_default().to_owned(),
            text: str_at(&v, "/message/text").unwrap_or_default().to_owned(),
            sent_at: str_at(&v, "/timeUtc").and_then(parse_time),
            media,
            concat: None,
        }))
    }

    fn send_request(&self, sms: &OutgoingSms) -> SendRequest {
        let token = self
            .cfg
            .product_token
            .as_ref()
            .map(|t| t.expose())
            .unwrap_or_default();
        let body = serde_json::json!({
            "messages": {
                "authentication": { "producttoken": token },
                "msg": [{
                    "from": self.cfg.from,
                    "to": [{ "number": sms.to }],
                    "body": { "type": "auto", "content": sms.text },
                    "reference": sms.idempotency_key,
                    "minimumNumberOfMessageParts": 1,
                    "maximumNumberOfMessageParts": 8,
                }]
            }
        });
        SendRequest {
            url: format!("{}/v1.0/message", self.cfg.api_base.trim_end_matches('/')),
            headers: Vec::new(),
            content_type: "application/json",
            body: body.to_string().into_bytes(),
        }
    }

    fn sent_id(&self, _body: &[u8]) -> Option<String> {
        // CM reports by the reference loket chose, not an id of its own.
        None
    }
}
