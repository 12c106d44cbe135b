//! Webhooks signed by the providers' own SDKs (tests/interop/sms_sdk_sign.py, run in the
//! venv of ops/ci/install-sms.sh) posted to a running loket: each stored once though
//! posted twice, a copy with one byte changed refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use loket_server::testing::{TestDb, settings_for, spawn_app};
use loket_store::on_both;
use serde_json::json;

const PUBLIC: &str = "https://loket.example";

on_both!(
    sdk_signed_webhooks_are_stored_once_and_tampered_copies_refused,
    |db: TestDb| async move {
        let tenant = db
            .store
            .create_tenant("gemeente", "Gemeente")
            .await
            .expect("tenant")
            .id;
        let mut settings = settings_for(&db).expect("settings");
        settings.sms = serde_json::from_value(json!({
        "public_url": PUBLIC,
        "tenants": {"gemeente": {
            "twilio": {"account_sid": "ACtest", "auth_token": "sdk-twilio-token"},
            "bird": {"signing_key": "sdk-bird-key"},
            "vonage": {"api_key": "vk", "signature_secret": "sdk-vonage-secret", "signature_method": "sha256"}
        }}
    }))
    .expect("config");
        let app = spawn_app(&db, settings, false).await.expect("app");
        let venv =
            std::env::var("LOKET_SMS_SDK_VENV").unwrap_or_else(|_| "/var/tmp/loket-sms-sdk".into());
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/interop/sms_sdk_sign.py"
        );
        let base = app.base.clone();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(format!("{venv}/bin/python"))
                .args([script, &base, PUBLIC])
                .env("TWILIO_TOKEN", "sdk-twilio-token")
                .env("BIRD_KEY", "sdk-bird-key")
                .env("VONAGE_SECRET", "sdk-vonage-secret")
                .output()
        })
        .await
        .expect("join")
        .expect("the SDK venv is missing: run ops/ci/install-sms.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let statuses: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        for provider in ["twilio", "vonage", "bird"] {
            assert_eq!(
                statuses[provider],
                json!([200, 200, 403]),
                "{provider}: {statuses}"
            );
        }
        assert_eq!(db.store.message_count(tenant).await.expect("count"), 3);
    }
);
