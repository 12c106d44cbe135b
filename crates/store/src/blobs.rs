//! Blob writes: originals and attachments, content-addressed per tenant.

use crate::Result;
use crate::conn::AnyConnection;
use crate::models::NewBlob;
use crate::schema::blobs;
use diesel::prelude::*;

pub(crate) fn put_blob(
    conn: &mut AnyConnection,
    tenant: &str,
    sha: &str,
    data: &[u8],
) -> Result<()> {
    insert_blobs(
        conn,
        &[NewBlob {
            tenant_id: tenant,
            sha256: sha,
            size: data.len() as i64,
            data,
        }],
    )
}

/// Blobs are content-addressed: a row already stored under the same (tenant, SHA-256) holds
/// the same bytes, so the insert itself skips it (`ON CONFLICT DO NOTHING`) instead of a
/// lookup first — on a large archive that lookup was a random probe per blob.
pub(crate) fn insert_blobs(c: &mut AnyConnection, rows: &[NewBlob<'_>]) -> Result<()> {
    match c {
        AnyConnection::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(blobs::table)
                    .values(row)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
        AnyConnection::Postgresql(c) => {
            // Blobs are large: a few per statement keep the statement's memory bounded.
            for chunk in rows.chunks(64) {
                diesel::insert_into(blobs::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .execute(c)?;
            }
        }
    }
    Ok(())
}
