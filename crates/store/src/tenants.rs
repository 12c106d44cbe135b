//! Tenants: creating one (with the first event of its audit chain) and reading them.
//! `tenants()` lists every tenant: it serves system tasks (the CLI, the per-tenant
//! workers), never a tenant's principal.

use crate::audit;
use crate::batch::BatchCtx;
use crate::conn::AnyConnection;
use crate::models::*;
use crate::schema::*;
use crate::{Result, Store, StoreError};
use diesel::prelude::*;
use loket_core::{AuditAction, AuditSubject, Tenant, TenantId};

impl Store {
    /// Creates a tenant (CLI, admin API, demo start-up).
    pub async fn create_tenant(&self, slug: &str, name: &str) -> Result<Tenant> {
        if !loket_core::is_valid_slug(slug) {
            return Err(StoreError::Invalid(format!(
                "tenant slug `{slug}` must be 2–63 characters of a-z, 0-9 and '-'"
            )));
        }
        let slug = slug.to_owned();
        let name = name.to_owned();
        self.write(move |c, ctx| {
            let taken: i64 = tenants::table
                .filter(tenants::slug.eq(&slug))
                .count()
                .get_result(c)?;
            if taken > 0 {
                return Err(StoreError::Conflict(format!("tenant `{slug}` exists")));
            }
            let tenant = Tenant {
                id: TenantId::new(),
                slug: slug.clone(),
                name: name.clone(),
                created_at: loket_core::now(),
            };
            insert_tenant(c, ctx, &tenant)?;
            Ok(tenant)
        })
        .await
    }

    pub async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>> {
        self.read(move |c| {
            let row: Option<TenantRow> = tenants::table
                .filter(tenants::id.eq(id.to_string()))
                .select(TenantRow::as_select())
                .first(c)
                .optional()?;
            row.map(TenantRow::into_domain).transpose()
        })
        .await
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        let slug = slug.to_owned();
        self.read(move |c| {
            let row: Option<TenantRow> = tenants::table
                .filter(tenants::slug.eq(slug))
                .select(TenantRow::as_select())
                .first(c)
                .optional()?;
            row.map(TenantRow::into_domain).transpose()
        })
        .await
    }

    pub async fn tenants(&self) -> Result<Vec<Tenant>> {
        self.read(|c| {
            let rows: Vec<TenantRow> = tenants::table
                .order(tenants::slug)
                .select(TenantRow::as_select())
                .load(c)?;
            rows.into_iter().map(TenantRow::into_domain).collect()
        })
        .await
    }
}

pub(crate) fn insert_tenant(
    c: &mut AnyConnection,
    ctx: &mut BatchCtx,
    tenant: &Tenant,
) -> Result<()> {
    diesel::insert_into(tenants::table)
        .values(&TenantRow {
            id: tenant.id.to_string(),
            slug: tenant.slug.clone(),
            name: tenant.name.clone(),
            created_at: ts(tenant.created_at),
        })
        .execute(c)?;
    audit::append(
        c,
        ctx,
        tenant.id,
        "system:cli",
        AuditAction::TenantCreated,
        &AuditSubject::new("tenant", tenant.id),
        &serde_json::json!({"slug": tenant.slug, "name": tenant.name}).to_string(),
    )?;
    Ok(())
}
