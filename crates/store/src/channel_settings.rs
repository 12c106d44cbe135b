//! Per-tenant channel settings (mail addresses, IMAP mailboxes, web chat options).
//! `channel_settings(channel)` reads one channel's settings of every tenant: the channel
//! adapters are system tasks that serve all tenants and route by the tenant column.

use crate::models::*;
use crate::schema::*;
use crate::{Result, Store};
use diesel::prelude::*;
use loket_core::{Channel, TenantId};

impl Store {
    /// Sets a per-tenant channel setting (mail addresses, IMAP mailboxes, …).
    pub async fn set_channel_setting(
        &self,
        tenant: TenantId,
        channel: Channel,
        key: &str,
        value: serde_json::Value,
    ) -> Result<()> {
        let key = key.to_owned();
        self.write(move |c, _| {
            let tid = tenant.to_string();
            let target = channel_settings::table
                .filter(channel_settings::tenant_id.eq(&tid))
                .filter(channel_settings::channel.eq(channel.as_str()))
                .filter(channel_settings::key.eq(&key));
            diesel::delete(target).execute(c)?;
            diesel::insert_into(channel_settings::table)
                .values((
                    channel_settings::tenant_id.eq(&tid),
                    channel_settings::channel.eq(channel.as_str()),
                    channel_settings::key.eq(&key),
                    channel_settings::value_json.eq(value.to_string()),
                    channel_settings::updated_at.eq(ts(loket_core::now())),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
    }

    /// Settings of one channel for every tenant: (tenant, key, value).
    pub async fn channel_settings(
        &self,
        channel: Channel,
    ) -> Result<Vec<(TenantId, String, serde_json::Value)>> {
        self.read(move |c| {
            let rows: Vec<(String, String, String)> = channel_settings::table
                .filter(channel_settings::channel.eq(channel.as_str()))
                .order((channel_settings::tenant_id, channel_settings::key))
                .select((
                    channel_settings::tenant_id,
                    channel_settings::key,
                    channel_settings::value_json,
                ))
                .load(c)?;
            rows.into_iter()
                .map(|(t, k, v)| Ok((parse("tenant id", &t)?, k, json("setting", &v)?)))
                .collect()
        })
        .await
    }
}
