//! A backend-neutral description of the live schema, for `orgbase schema dump`.
//!
//! Each backend reads its catalog into [`Schema`]; [`Schema::render`] prints it sorted
//! and with type names normalized, so the dumps of SQLite and PostgreSQL can be diffed
//! and a test asserts they are equal. CHECK constraints and column defaults are not
//! part of the dump: their text differs between engines even when they mean the same.

use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// As the engine reports it; normalized when rendered.
    pub ty: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    /// `CASCADE`, `SET NULL`, `RESTRICT`, `NO ACTION`, `SET DEFAULT`.
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

/// Maps each engine's spelling of a type to one portable name.
pub fn normalize_type(raw: &str) -> String {
    let t = raw.trim().to_ascii_lowercase();
    match t.as_str() {
        "blob" | "uuid" => "uuid",
        "bigint" | "integer" | "int8" | "int" => "bigint",
        "text" | "jsonb" | "json" | "character varying" | "varchar" => "text",
        "boolean" | "bool" => "boolean",
        _ => return t,
    }
    .to_string()
}

impl Schema {
    pub fn render(&self) -> String {
        let mut tables = self.tables.clone();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = String::new();
        for t in tables {
            let _ = writeln!(out, "table {}", t.name);
            let mut cols = t.columns.clone();
            cols.sort_by(|a, b| a.name.cmp(&b.name));
            for c in cols {
                let null = if c.nullable { "null" } else { "not null" };
                let _ = writeln!(
                    out,
                    "  column {} {} {}",
                    c.name,
                    normalize_type(&c.ty),
                    null
                );
            }
            if !t.primary_key.is_empty() {
                let _ = writeln!(out, "  primary key ({})", t.primary_key.join(", "));
            }
            let mut fks: Vec<String> = t
                .foreign_keys
                .iter()
                .map(|f| {
                    format!(
                        "  foreign key ({}) references {} ({}) on delete {}",
                        f.columns.join(", "),
                        f.ref_table,
                        f.ref_columns.join(", "),
                        f.on_delete.to_ascii_lowercase()
                    )
                })
                .collect();
            fks.sort();
            for f in fks {
                let _ = writeln!(out, "{f}");
            }
            let mut idx = t.indexes.clone();
            idx.sort_by(|a, b| a.name.cmp(&b.name));
            for i in idx {
                let kind = if i.unique { "unique index" } else { "index" };
                let _ = writeln!(out, "  {kind} {} ({})", i.name, i.columns.join(", "));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_and_normalized() {
        let s = Schema {
            tables: vec![
                Table {
                    name: "b".into(),
                    ..Default::default()
                },
                Table {
                    name: "a".into(),
                    columns: vec![
                        Column {
                            name: "z".into(),
                            ty: "JSONB".into(),
                            nullable: false,
                        },
                        Column {
                            name: "id".into(),
                            ty: "BLOB".into(),
                            nullable: false,
                        },
                    ],
                    primary_key: vec!["id".into()],
                    foreign_keys: vec![],
                    indexes: vec![Index {
                        name: "a_z".into(),
                        columns: vec!["z".into()],
                        unique: true,
                    }],
                },
            ],
        };
        assert_eq!(
            s.render(),
            "table a\n  column id uuid not null\n  column z text not null\n  primary key (id)\n  unique index a_z (z)\ntable b\n"
        );
    }
}
