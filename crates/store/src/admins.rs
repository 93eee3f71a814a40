//! The SQL of administrators, API tokens and sessions (both backends).

use signpost_core::admin::{AdminRole, Administrator};
use sqlx::any::AnyRow;
use sqlx::{AnyPool as Pool, Row};

use crate::sql::{is_foreign_key_violation, is_unique_violation};
use crate::{AdminSession, ApiToken, Result, StoreError};

pub fn administrator_from_row(row: &AnyRow) -> Result<Administrator> {
    let role: String = row.try_get("role")?;
    let domains: String = row.try_get("domains")?;
    let domains: Vec<String> = domains
        .split(',')
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect();
    let role = AdminRole::parse(&role, &domains)
        .map_err(|e| StoreError::Corrupt(format!("administrator role: {e}")))?;
    Ok(Administrator {
        name: row.try_get("name")?,
        password_hash: row.try_get("password_hash")?,
        role,
    })
}

fn role_columns(role: &AdminRole) -> (&'static str, String) {
    match role {
        AdminRole::System => ("system", String::new()),
        AdminRole::Domain(domains) => ("domain", domains.join(",")),
    }
}

pub async fn administrators(pool: &Pool) -> Result<Vec<Administrator>> {
    sqlx::query("SELECT * FROM administrators ORDER BY name")
        .fetch_all(pool)
        .await?
        .iter()
        .map(administrator_from_row)
        .collect()
}

pub async fn administrator(pool: &Pool, name: &str) -> Result<Option<Administrator>> {
    sqlx::query("SELECT * FROM administrators WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(administrator_from_row)
        .transpose()
}

pub async fn insert_administrator<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    administrator: &Administrator,
) -> Result<()> {
    let (role, domains) = role_columns(&administrator.role);
    sqlx::query(
        "INSERT INTO administrators (name, password_hash, role, domains) VALUES ($1, $2, $3, $4)",
    )
    .bind(&administrator.name)
    .bind(&administrator.password_hash)
    .bind(role)
    .bind(domains)
    .execute(executor)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists {
                kind: "administrator",
                name: administrator.name.clone(),
            }
        } else {
            e.into()
        }
    })?;
    Ok(())
}

pub async fn save_administrator<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    administrator: &Administrator,
) -> Result<()> {
    let (role, domains) = role_columns(&administrator.role);
    let updated = sqlx::query(
        "UPDATE administrators SET password_hash = $2, role = $3, domains = $4 WHERE name = $1",
    )
    .bind(&administrator.name)
    .bind(&administrator.password_hash)
    .bind(role)
    .bind(domains)
    .execute(executor)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("administrator", &administrator.name));
    }
    Ok(())
}

pub async fn delete_administrator<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    name: &str,
) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM administrators WHERE name = $1")
        .bind(name)
        .execute(executor)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::not_found("administrator", name));
    }
    Ok(())
}

pub fn token_from_row(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        administrator: row.try_get("administrator")?,
        name: row.try_get("name")?,
        token_hash: row.try_get("token_hash")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_api_token<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    token: &ApiToken,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (administrator, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&token.administrator)
    .bind(&token.name)
    .bind(&token.token_hash)
    .bind(token.created_at)
    .execute(executor)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists {
                kind: "API token",
                name: format!("{}/{}", token.administrator, token.name),
            }
        } else if is_foreign_key_violation(&e) {
            StoreError::not_found("administrator", &token.administrator)
        } else {
            e.into()
        }
    })?;
    Ok(())
}

pub async fn api_tokens(pool: &Pool, administrator: Option<&str>) -> Result<Vec<ApiToken>> {
    sqlx::query(
        "SELECT * FROM api_tokens WHERE $1 IS NULL OR administrator = $1 ORDER BY administrator, name",
    )
    .bind(administrator)
    .fetch_all(pool)
    .await?
    .iter()
    .map(token_from_row)
    .collect()
}

pub async fn api_token_by_hash(pool: &Pool, token_hash: &str) -> Result<Option<ApiToken>> {
    sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
}

pub async fn delete_api_token<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    administrator: &str,
    name: &str,
) -> Result<()> {
    let deleted = sqlx::query("DELETE FROM api_tokens WHERE administrator = $1 AND name = $2")
        .bind(administrator)
        .bind(name)
        .execute(executor)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::not_found(
            "API token",
            &format!("{administrator}/{name}"),
        ));
    }
    Ok(())
}

pub async fn create_session(pool: &Pool, session: &AdminSession, now: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO admin_sessions (id_hash, administrator, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&session.id_hash)
    .bind(&session.administrator)
    .bind(&session.csrf_token)
    .bind(session.expires_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn session_by_hash(pool: &Pool, id_hash: &str, now: i64) -> Result<Option<AdminSession>> {
    let row = sqlx::query("SELECT * FROM admin_sessions WHERE id_hash = $1 AND expires_at > $2")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(AdminSession {
            id_hash: row.try_get("id_hash")?,
            administrator: row.try_get("administrator")?,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        })
    })
    .transpose()
}

pub async fn delete_session(pool: &Pool, id_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM admin_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}
