//! Embedded migrations, one list per backend. Versions must match across the lists:
//! the same version number means the same logical change on each engine.

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "access",
        sql: include_str!("../migrations/sqlite/0002_access.sql"),
    },
    Migration {
        version: 3,
        name: "mail",
        sql: include_str!("../migrations/sqlite/0003_mail.sql"),
    },
    Migration {
        version: 4,
        name: "domain_proof",
        sql: include_str!("../migrations/sqlite/0004_domain_proof.sql"),
    },
    Migration {
        version: 5,
        name: "email_verification",
        sql: include_str!("../migrations/sqlite/0005_email_verification.sql"),
    },
    Migration {
        version: 6,
        name: "mailed_password_links",
        sql: include_str!("../migrations/sqlite/0006_mailed_password_links.sql"),
    },
    Migration {
        version: 7,
        name: "invitation_link_shown",
        sql: include_str!("../migrations/sqlite/0007_invitation_link_shown.sql"),
    },
    Migration {
        version: 8,
        name: "account_created_mail",
        sql: include_str!("../migrations/sqlite/0008_account_created_mail.sql"),
    },
    Migration {
        version: 9,
        name: "service_keys_and_assistants",
        sql: include_str!("../migrations/sqlite/0009_service_keys_and_assistants.sql"),
    },
    Migration {
        version: 10,
        name: "change_notices",
        sql: include_str!("../migrations/sqlite/0010_change_notices.sql"),
    },
    Migration {
        version: 11,
        name: "purge_index",
        sql: include_str!("../migrations/sqlite/0011_purge_index.sql"),
    },
    Migration {
        version: 12,
        name: "oidc_keys",
        sql: include_str!("../migrations/sqlite/0012_oidc_keys.sql"),
    },
    Migration {
        version: 13,
        name: "oidc_clients",
        sql: include_str!("../migrations/sqlite/0013_oidc_clients.sql"),
    },
    Migration {
        version: 14,
        name: "oidc_grants",
        sql: include_str!("../migrations/sqlite/0014_oidc_grants.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "access",
        sql: include_str!("../migrations/postgres/0002_access.sql"),
    },
    Migration {
        version: 3,
        name: "mail",
        sql: include_str!("../migrations/postgres/0003_mail.sql"),
    },
    Migration {
        version: 4,
        name: "domain_proof",
        sql: include_str!("../migrations/postgres/0004_domain_proof.sql"),
    },
    Migration {
        version: 5,
        name: "email_verification",
        sql: include_str!("../migrations/postgres/0005_email_verification.sql"),
    },
    Migration {
        version: 6,
        name: "mailed_password_links",
        sql: include_str!("../migrations/postgres/0006_mailed_password_links.sql"),
    },
    Migration {
        version: 7,
        name: "invitation_link_shown",
        sql: include_str!("../migrations/postgres/0007_invitation_link_shown.sql"),
    },
    Migration {
        version: 8,
        name: "account_created_mail",
        sql: include_str!("../migrations/postgres/0008_account_created_mail.sql"),
    },
    Migration {
        version: 9,
        name: "service_keys_and_assistants",
        sql: include_str!("../migrations/postgres/0009_service_keys_and_assistants.sql"),
    },
    Migration {
        version: 10,
        name: "change_notices",
        sql: include_str!("../migrations/postgres/0010_change_notices.sql"),
    },
    Migration {
        version: 11,
        name: "purge_index",
        sql: include_str!("../migrations/postgres/0011_purge_index.sql"),
    },
    Migration {
        version: 12,
        name: "oidc_keys",
        sql: include_str!("../migrations/postgres/0012_oidc_keys.sql"),
    },
    Migration {
        version: 13,
        name: "oidc_clients",
        sql: include_str!("../migrations/postgres/0013_oidc_clients.sql"),
    },
    Migration {
        version: 14,
        name: "oidc_grants",
        sql: include_str!("../migrations/postgres/0014_oidc_grants.sql"),
    },
];

/// The bookkeeping table, the same on both engines.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS orgbase_migrations (\
    version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

/// Splits a migration into statements (at `;` ending a line). Migrations keep to that
/// form: no `;` at a line end inside a string or a trigger body.
pub fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| {
        s.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn backends_have_the_same_versions() {
        let v = |l: &[super::Migration]| l.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(v(super::SQLITE), v(super::POSTGRES));
    }

    #[test]
    fn splits_statements_and_skips_comment_only_chunks() {
        let sql = "-- a comment;\nCREATE TABLE a (x INT);\n\n-- only a comment\nCREATE INDEX i ON a (x);\n-- trailing\n";
        let got: Vec<&str> = super::statements(sql).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].ends_with("CREATE INDEX i ON a (x)"));
    }
}
