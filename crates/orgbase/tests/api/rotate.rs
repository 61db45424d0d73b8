//! `orgbase secrets rotate-key` (ADR 0016): every secret at rest re-sealed under a new
//! master key, resumable.

use orgbase_service::secrets::{MasterKey, SecretBox};
use orgbase_service::{OrgRef, Origin, perm};
use serde_json::json;

use crate::harness::{Backend, TEST_MASTER_KEY, spawn};
use crate::{story, test_on};

pub const TESTS: &[crate::harness::Test] = &[
    story!(rotate_key_reseals_every_secret_and_resumes),
    test_on!(Sqlite, fn cli_rotates_and_says_what_next),
];

const NEW_KEY: &str = "f0e1d2c3b4a5968778695a4b3c2d1e0f0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn sealer(key: &str) -> SecretBox {
    SecretBox::new(&MasterKey::from_env_value(key).unwrap())
}

async fn rotate_key_reseals_every_secret_and_resumes(b: Backend) {
    let Some(app) = spawn(b).await else { return };
    let one = app.signup("ann@one.test", "Ann").await;
    let two = app.signup("bob@two.test", "Bob").await;
    for (acc, tag) in [(&one, "one"), (&two, "two")] {
        let (st, c) = app
            .patch(
                &format!("/api/v1/orgs/{}/config", acc.org_id),
                &acc.token,
                json!({
                    "providers": {"openai": {"api_key": format!("sk-{tag}-secret-0001")}},
                    "knowledge_base": {"url": "https://kb.example.org",
                                       "api_key": format!("kb-{tag}-secret-0002")},
                }),
            )
            .await;
        assert_eq!(st, 200, "{c}");
    }
    // A queued mail's link is sealed too.
    let (st, _) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "ann@one.test"})),
        )
        .await;
    assert_eq!(st, 204);
    // No SMTP in tests: the mail stays queued, its link sealed.

    let (old, new) = (sealer(TEST_MASTER_KEY), sealer(NEW_KEY));
    let current = app.restart_services(|_| {}).await;
    let system = current.services.system();
    // Interrupted: stops after two values.
    let r1 = system
        .rotate_master_key(&current.operator, &new, Some(2))
        .await
        .unwrap();
    assert!(r1.stopped_at_limit && r1.resealed == 2, "{r1:?}");
    // Run again: the rest (four config secrets, three mail links: two sign-up
    // verifications and the reset), and the first two are recognized as done.
    let r2 = system
        .rotate_master_key(&current.operator, &new, None)
        .await
        .unwrap();
    assert!(r2.complete(), "{r2:?}");
    assert_eq!((r2.resealed, r2.already), (5, 2), "{r2:?}");
    let r3 = system
        .rotate_master_key(&current.operator, &new, None)
        .await
        .unwrap();
    assert_eq!((r3.resealed, r3.already), (0, 7), "{r3:?}");

    // Every value opens with the new key, none with the old one.
    for acc in [&one, &two] {
        let id: orgbase_domain::OrgId = acc.org_id.parse().unwrap();
        let org = app.store.org_by_id(id).await.unwrap().unwrap();
        for path in ["providers.openai.api_key", "knowledge_base.api_key"] {
            let pointer = format!("/{}", path.replace('.', "/"));
            let sealed = org.config.pointer(&pointer).unwrap().as_str().unwrap();
            let ctx = format!("{id}:{path}");
            assert!(new.open_for(&ctx, sealed).is_ok(), "{path}");
            assert!(old.open_for(&ctx, sealed).is_err(), "{path}");
        }
    }
    let mails = app
        .store
        .outbox(None, orgbase_domain::PageRequest::first(200))
        .await
        .unwrap()
        .items;
    let link = mails.iter().find(|m| !m.link_sealed.is_empty()).unwrap();
    let ctx = format!("mail:{}", link.id);
    assert!(
        new.open_for(&ctx, &link.link_sealed)
            .unwrap()
            .contains("token=")
    );
    assert!(old.open_for(&ctx, &link.link_sealed).is_err());

    // A server with the new key shows the masks; one with the old key cannot open them.
    let swapped = app
        .restart_services(|s| s.master_key = Some(NEW_KEY.into()))
        .await;
    let access = swapped
        .services
        .authz()
        .org::<perm::ConfigManage>(&one.token, &OrgRef::parse(&one.org_id), Origin::default())
        .await
        .unwrap();
    let shown = swapped.services.configuration().get(&access).await.unwrap();
    assert_eq!(
        shown["providers"]["openai"]["api_key"], "sk-…0001",
        "{shown}"
    );
    assert_eq!(shown["knowledge_base"]["api_key"], "kb-…0002", "{shown}");
    let (_, stale) = app
        .get(&format!("/api/v1/orgs/{}/config", one.org_id), &one.token)
        .await;
    assert_eq!(stale["providers"]["openai"]["api_key"], "…", "{stale}");

    // The org's audit names what was re-sealed, never a value.
    let (_, audit) = app
        .get(
            &format!("/api/v1/orgs/{}/audit?action=secrets.rotate", one.org_id),
            &one.token,
        )
        .await;
    let items = audit["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{audit}");
    assert!(!audit.to_string().contains("secret-000"), "{audit}");
    // Rotating to the key in use is refused.
    let same = swapped
        .services
        .system()
        .rotate_master_key(&swapped.operator, &new, None)
        .await
        .unwrap_err();
    assert_eq!(same.code(), "same_master_key");
}

fn cli_rotates_and_says_what_next() {
    use std::process::Command;
    let dir =
        std::env::temp_dir().join(format!("orgbase-rotate-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let run = |args: &[&str], new_key: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgbase"));
        cmd.args(args)
            .env("DATABASE_URL", &db)
            .env("ORGBASE_MASTER_KEY", TEST_MASTER_KEY)
            .env_remove("ORGBASE_NEW_MASTER_KEY")
            .env_remove("ORGBASE_ADMIN_EMAIL")
            .env_remove("ORGBASE_ADMIN_PASSWORD");
        if let Some(k) = new_key {
            cmd.env("ORGBASE_NEW_MASTER_KEY", k);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (ok, _, err) = run(&["secrets", "rotate-key"], None);
    assert!(!ok && err.contains("--new-key-file"), "{err}");
    let (ok, _, err) = run(&["secrets", "rotate-key"], Some("not-a-key"));
    assert!(
        !ok && err.contains("ORGBASE_NEW_MASTER_KEY does not hold a key"),
        "{err}"
    );
    let (ok, _, err) = run(&["secrets", "rotate-key"], Some(TEST_MASTER_KEY));
    assert!(!ok && err.contains("current one"), "{err}");
    let file = dir.join("new.key");
    std::fs::write(&file, format!("{NEW_KEY}\n")).unwrap();
    let (ok, out, err) = run(
        &[
            "secrets",
            "rotate-key",
            "--new-key-file",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("Every secret at rest opens with the new key"),
        "{out}"
    );
    assert!(
        out.contains("set ORGBASE_MASTER_KEY to the new key"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
