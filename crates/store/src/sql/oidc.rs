//! The OpenID Connect provider's signing keys (ADR 0025).

use async_trait::async_trait;
use orgbase_domain::{SigningAlg, SigningKey, Timestamp};
use sqlx::Row;
use sqlx::types::Json;

use super::rows::DbRow;
use super::{DbConn, SqlTx};
use crate::{Result, StoreError};

fn key_from(r: &DbRow) -> Result<SigningKey> {
    let alg: String = r.try_get("alg")?;
    Ok(SigningKey {
        kid: r.try_get("kid")?,
        alg: SigningAlg::parse(&alg).ok_or(StoreError::Corrupt("alg"))?,
        generation: r.try_get("generation")?,
        private_sealed: r.try_get("private_key")?,
        public_jwk: r.try_get::<Json<serde_json::Value>, _>("public_jwk")?.0,
        created_at: Timestamp::from_millis(r.try_get("created_at")?),
    })
}

pub(crate) async fn signing_keys(c: &mut DbConn) -> Result<Vec<SigningKey>> {
    let rows = sqlx::query(
        "SELECT kid, alg, generation, private_key, public_jwk, created_at FROM oidc_keys \
         ORDER BY alg DESC, generation DESC",
    )
    .fetch_all(c)
    .await?;
    rows.iter().map(key_from).collect()
}

reads!(OidcReads {
    fn signing_keys(&self) -> Vec<SigningKey>;
});

#[async_trait]
impl crate::OidcWrites for SqlTx {
    async fn insert_signing_key(&mut self, k: &SigningKey) -> Result<()> {
        // Numbered after the algorithm's newest; the unique index refuses a twin.
        sqlx::query(
            "INSERT INTO oidc_keys (kid, alg, generation, private_key, public_jwk, created_at) \
             VALUES ($1, $2, (SELECT COALESCE(MAX(generation), 0) + 1 FROM oidc_keys WHERE alg = $2), \
             $3, $4, $5)",
        )
        .bind(&k.kid)
        .bind(k.alg.as_str())
        .bind(&k.private_sealed)
        .bind(Json(&k.public_jwk))
        .bind(k.created_at.as_millis())
        .execute(self.c())
        .await?;
        Ok(())
    }

    async fn prune_signing_keys(&mut self, alg: SigningAlg, keep: u32) -> Result<u64> {
        let r = sqlx::query(
            "DELETE FROM oidc_keys WHERE alg = $1 AND kid NOT IN \
             (SELECT kid FROM oidc_keys WHERE alg = $1 ORDER BY generation DESC LIMIT $2)",
        )
        .bind(alg.as_str())
        .bind(i64::from(keep))
        .execute(self.c())
        .await?;
        Ok(r.rows_affected())
    }

    async fn reseal_signing_key(
        &mut self,
        kid: &str,
        expected: &str,
        sealed: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE oidc_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3",
        )
        .bind(sealed)
        .bind(kid)
        .bind(expected)
        .execute(self.c())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn lock_signing_keys(&mut self) -> Result<()> {
        super::super::lock_signing_keys(self.c()).await
    }
}
