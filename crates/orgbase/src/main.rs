//! `orgbase`: the server and its command line.

use std::ffi::OsString;
use std::io::Read;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use orgbase::server;
use orgbase::settings::{LogFormat, Settings};
use orgbase_domain::PageRequest;
use orgbase_service::{Bootstrap, NewOrgInput, UserPatch, UserRef};
use orgbase_store::ConnectOptions;

#[derive(Parser)]
#[command(
    name = "orgbase",
    version,
    about = "Organizations, users and roles for AI-assistant platforms"
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (creates and migrates the database as needed).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ORGBASE_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// System administrators.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// The database schema.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Outgoing mail.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Secrets at rest.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// The OpenID Connect provider.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Seed a database, drive HTTP load at the server and report throughput, latency
    /// and memory (runs the `orgbase-bench` binary; `orgbase bench --help`).
    #[command(disable_help_flag = true)]
    Bench {
        /// Passed on to `orgbase-bench` (see `bench_args`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// The benchmark's floor: one bare axum route (`GET /`, an empty 200) without any
    /// middleware, on this binary's runtime. `orgbase bench` measures it first, so every
    /// endpoint is judged against what this machine, runtime and HTTP stack can do at
    /// all (bench/README.md). Not for anything else.
    #[command(hide = true)]
    BenchFloor {
        #[arg(long)]
        bind: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a system admin; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Make an existing account a system admin (its password is left alone). The only
    /// way to promote an account: ORGBASE_ADMIN_EMAIL at start never does.
    Promote {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization owned by an existing user.
    Create {
        #[arg(long)]
        name: String,
        /// E-mail of the owner.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        slug: Option<String>,
    },
    /// List organizations.
    List,
    /// Export an organization (slug or id) to one JSON document, as the operator.
    /// Secrets are left out unless --include-secrets (then they are in the clear).
    Export {
        org: String,
        /// Put the secrets in, in the clear (config `api_key` fields, the signup key).
        #[arg(long)]
        include_secrets: bool,
        /// Write the document to this file (created readable by its owner only)
        /// instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Delete for good the organizations deleted longer ago than the restore window
    /// (30 days by default), with everything in them; each is audited (`org.purge`).
    /// `serve` does this every ORGBASE_PURGE_INTERVAL_SECS.
    Purge {
        /// Only list what would be purged.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import an organization from an export document, as the operator: creates it,
    /// or brings the organization with its slug to match the document.
    Import {
        /// The document (`-`: standard input).
        file: std::path::PathBuf,
        /// Verify here the domains the document says are verified (you vouch for
        /// them); otherwise they are imported pending.
        #[arg(long)]
        verify_domains: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Let a disabled user in again.
    Enable { email: String },
    /// Lock a user out now: their sessions end and their API keys stop working.
    Disable { email: String },
    /// Set a new password (read from standard input); ends the user's sessions.
    ResetPassword { email: String },
    /// Import users into an organization from a CSV file (header
    /// `email,name,role[,workspace]`), as the operator: any e-mail, roles up to admin.
    /// Prints every row's outcome; new accounts are mailed a set-password link. Exits
    /// non-zero when a row is an error (then nothing is imported).
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The organization's slug or id.
        #[arg(long)]
        org: String,
        /// Only check the file and print what each row would do.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// List the mail outbox, oldest first: id, status, kind, recipient, attempts, next
    /// attempt, last error, and the one link of each mail not yet sent (give it to the
    /// recipient by another way when mail is not configured).
    Outbox {
        /// Only mails in this state: queued, sending, sent or failed.
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Re-seal every secret at rest (configuration secrets, unsent mail links) under a
    /// new master key, opening them with the current one. Safe to interrupt and run
    /// again: values already under the new key are left alone. Stop the servers first;
    /// afterwards, swap the key (the command says how).
    RotateKey {
        /// A file holding the new key (64 hex characters or base64 of 32 bytes);
        /// otherwise ORGBASE_NEW_MASTER_KEY.
        #[arg(long)]
        new_key_file: Option<std::path::PathBuf>,
        /// Stop after re-sealing this many values (do the work in parts).
        #[arg(long)]
        limit: Option<usize>,
    },
}

#[derive(Subcommand)]
enum OidcCommand {
    /// Make a new signing key for each algorithm (RS256, EdDSA). The key it replaces
    /// stays published as the previous one, so tokens it signed still verify; older
    /// keys are deleted. Safe while the servers run.
    RotateKeys,
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Print the live schema: tables, columns, keys and indexes, sorted, with portable
    /// type names, so SQLite's and PostgreSQL's dumps can be diffed.
    Dump,
}

fn init_logs(s: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&s.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // sqlx warns about connection-URL parameters it does not know with their values,
    // which may be passwords (`?sslpassword=`): never log those.
    let filter = match "sqlx_postgres::options=error".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match s.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(args) = bench_args() {
        return bench(args);
    }
    let cli = Cli::parse();
    let s = cli.settings;
    match cli.command {
        Command::Serve { bind } => {
            init_logs(&s);
            serve(&s, &bind).await
        }
        Command::Migrate => {
            init_logs(&s);
            let store = orgbase_store::connect(&s.database_url, &ConnectOptions::default()).await?;
            let ran = store.migrate().await?;
            println!(
                "{ran} migration(s) applied to {}",
                server::redact(&s.database_url)
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Create { email, name }) => {
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let c = server::console(&s, ConnectOptions::default()).await?;
            c.services
                .system()
                .ensure_org(&c.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            match c
                .services
                .system()
                .bootstrap_admin(&c.operator, &email, Some(password), name.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Bootstrap::Created(user) => {
                    println!("created system admin {} ({})", user.email, user.id);
                }
                Bootstrap::AlreadyAdmin(user) => println!(
                    "{} already exists and is a system admin; nothing changed (not the password)",
                    user.email
                ),
                Bootstrap::NotAdmin(user) => anyhow::bail!(
                    "{email} already exists and is not a system admin; nothing changed. \
                     To make that account a system admin, run `orgbase admin promote --email {email}`",
                    email = user.email
                ),
                Bootstrap::PasswordMissing => anyhow::bail!("a password is needed"),
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Promote { email }) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            c.services
                .system()
                .ensure_org(&c.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (user, changed) = c
                .services
                .system()
                .promote(&c.operator, &email)
                .await
                .map_err(|e| match e.code() {
                    "user_not_found" => anyhow::anyhow!("no user with e-mail {email}"),
                    _ => anyhow::anyhow!("{e}"),
                })?;
            if changed {
                println!("{} ({}) is a system admin now", user.email, user.id);
            } else {
                println!("{} is already a system admin; nothing changed", user.email);
            }
            Ok(())
        }
        Command::Org(OrgCommand::Create { name, owner, slug }) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            let input = NewOrgInput {
                name,
                slug,
                ..Default::default()
            };
            let org = c
                .services
                .admin()
                .create_org(&c.operator, &owner, input)
                .await
                .map_err(|e| match e.code() {
                    "user_not_found" => anyhow::anyhow!("no user with e-mail {owner}"),
                    _ => anyhow::anyhow!("{e}"),
                })?;
            println!("{}\t{}\t{}", org.id, org.slug, org.name);
            Ok(())
        }
        Command::Org(OrgCommand::Purge { dry_run }) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            let r = c
                .services
                .system()
                .purge_deleted(&c.operator, dry_run)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for o in &r.orgs {
                let deleted = o.deleted_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!("{}\t{}\t{}\tdeleted {deleted}", o.id, o.slug, o.name);
            }
            let verb = if dry_run { "would purge" } else { "purged" };
            println!(
                "{verb} {} organization(s) deleted before {}",
                r.orgs.len(),
                r.cutoff.to_rfc3339()
            );
            Ok(())
        }
        Command::Org(OrgCommand::List) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            let mut page = PageRequest {
                after: None,
                limit: 200,
            };
            loop {
                let p = c
                    .services
                    .admin()
                    .orgs(&c.operator, false, None, page)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                for o in &p.items {
                    println!("{}\t{}\t{}", o.id, o.slug, o.name);
                }
                match p.next_cursor {
                    Some(c) => page.after = Some(c),
                    None => break,
                }
            }
            Ok(())
        }
        Command::Org(OrgCommand::Export {
            org,
            include_secrets,
            out,
        }) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            export_org(&c, &org, include_secrets, out.as_deref()).await
        }
        Command::Org(OrgCommand::Import {
            file,
            verify_domains,
        }) => {
            let bytes = if file.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut b)
                    .context("reading the document from stdin")?;
                b
            } else {
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?
            };
            let doc: serde_json::Value =
                serde_json::from_slice(&bytes).context("the document is not valid JSON")?;
            let c = server::console(&s, ConnectOptions::default()).await?;
            let r = c
                .services
                .portability()
                .import(
                    &c.operator,
                    doc,
                    orgbase_service::ImportOptions { verify_domains },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            let what = match (r.created, r.changed) {
                (true, _) => "created",
                (false, true) => "updated",
                (false, false) => "unchanged",
            };
            println!("{what}\t{}\t{}", r.org_id, r.slug);
            for e in &r.accounts_created {
                println!("account created (no password)\t{e}");
            }
            for d in &r.domains_pending {
                println!("domain pending (not verified here)\t{d}");
            }
            Ok(())
        }
        Command::User(UserCommand::Import { file, org, dry_run }) => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let c = server::console(&s, ConnectOptions::default()).await?;
            import_users(&c, &bytes, &org, dry_run).await
        }
        Command::User(cmd) => {
            let (email, patch) = match cmd {
                UserCommand::Enable { email } => (
                    email,
                    UserPatch {
                        enabled: Some(true),
                        ..Default::default()
                    },
                ),
                UserCommand::Disable { email } => (
                    email,
                    UserPatch {
                        enabled: Some(false),
                        ..Default::default()
                    },
                ),
                // Handled by its own arm above.
                UserCommand::Import { .. } => anyhow::bail!("user import is handled above"),
                UserCommand::ResetPassword { email } => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_to_string(&mut password)
                        .context("reading the password from stdin")?;
                    let password = password.trim_end_matches(['\n', '\r']).to_string();
                    (
                        email,
                        UserPatch {
                            password: Some(password),
                            ..Default::default()
                        },
                    )
                }
            };
            let c = server::console(&s, ConnectOptions::default()).await?;
            let user = c
                .services
                .admin()
                .update_user(&c.operator, UserRef::Email(email), patch)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let state = if user.enabled { "enabled" } else { "disabled" };
            println!("{} ({}) is {state}", user.email, user.id);
            Ok(())
        }
        Command::Mail(MailCommand::Outbox { status }) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            let mut page = PageRequest {
                after: None,
                limit: 200,
            };
            println!("id\tstatus\tkind\trecipient\tattempts\tnext_attempt_at\tlast_error\tlink");
            loop {
                let p = c
                    .services
                    .mail()
                    .outbox(&c.operator, status.as_deref(), page)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                for e in &p.items {
                    let m = &e.mail;
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        m.id,
                        m.status.as_str(),
                        m.kind.as_str(),
                        m.recipient,
                        m.attempts,
                        m.next_attempt_at.to_rfc3339(),
                        m.last_error
                            .as_deref()
                            .unwrap_or("-")
                            .replace(['\t', '\n'], " "),
                        e.link.as_deref().unwrap_or("-"),
                    );
                }
                match p.next_cursor {
                    Some(c) => page.after = Some(c),
                    None => break,
                }
            }
            Ok(())
        }
        Command::Secrets(SecretsCommand::RotateKey {
            new_key_file,
            limit,
        }) => rotate_key(&s, new_key_file, limit).await,
        Command::Oidc(OidcCommand::RotateKeys) => {
            let c = server::console(&s, ConnectOptions::default()).await?;
            let r = c
                .services
                .oidc()
                .rotate_keys(&c.operator)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for kid in &r.added {
                println!("new signing key {kid}");
            }
            println!("{} older key(s) removed from the key set", r.removed);
            Ok(())
        }
        Command::Schema(SchemaCommand::Dump) => {
            let store = orgbase_store::connect(&s.database_url, &ConnectOptions::default()).await?;
            store.migrate().await?;
            print!("{}", store.schema().await?.render());
            Ok(())
        }
        Command::Bench { args } => bench(args),
        Command::BenchFloor { bind } => {
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("binding {bind}"))?;
            let floor = axum::Router::new().route("/", axum::routing::get(|| async {}));
            axum::serve(listener, floor).await?;
            Ok(())
        }
    }
}

/// `orgbase secrets rotate-key` (ADR 0016).
async fn rotate_key(
    s: &Settings,
    new_key_file: Option<std::path::PathBuf>,
    limit: Option<usize>,
) -> anyhow::Result<()> {
    use orgbase_service::secrets::{MasterKey, SecretBox};
    let (text, source) = match &new_key_file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the new key file {}", path.display()))?,
            format!("the new key file {}", path.display()),
        ),
        None => match std::env::var("ORGBASE_NEW_MASTER_KEY") {
            Ok(v) => (v, "ORGBASE_NEW_MASTER_KEY".to_string()),
            Err(_) => anyhow::bail!(
                "give the new key with --new-key-file PATH or ORGBASE_NEW_MASTER_KEY \
                 (make one with: openssl rand -hex 32)"
            ),
        },
    };
    let new = MasterKey::from_env_value(&text).map_err(|_| {
        anyhow::anyhow!(
            "{source} does not hold a key: expected 64 hex characters or base64 of 32 bytes"
        )
    })?;
    let c = server::console(s, ConnectOptions::default()).await?;
    let report = c
        .services
        .system()
        .rotate_master_key(&c.operator, &SecretBox::new(&new), limit)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "re-sealed {} secret(s) under the new key; {} already were",
        report.resealed, report.already
    );
    if report.stopped_at_limit {
        println!("stopped at --limit; run the same command again to finish");
        return Ok(());
    }
    if !report.unreadable.is_empty() {
        for u in &report.unreadable {
            eprintln!("opens with neither key, left as it is: {u}");
        }
        anyhow::bail!(
            "{} secret(s) open with neither key; they were left alone (set them again after the swap)",
            report.unreadable.len()
        );
    }
    println!("Every secret at rest opens with the new key now. Next:");
    println!(
        "  1. keep every node stopped (nodes with the old key cannot open the re-sealed secrets);"
    );
    match (&s.master_key, &new_key_file) {
        (Some(_), _) => println!("  2. set ORGBASE_MASTER_KEY to the new key on every node;"),
        (None, Some(f)) => println!(
            "  2. replace the key file {} with {} (mode 0600) on every node, or set ORGBASE_MASTER_KEY to the new key;",
            s.key_file().display(),
            f.display()
        ),
        (None, None) => println!(
            "  2. write the new key into the key file {} (mode 0600) on every node, or set ORGBASE_MASTER_KEY to it;",
            s.key_file().display()
        ),
    }
    println!(
        "  3. start the nodes and check (GET /orgs/{{org}}/config shows masks, not \"…\"); then destroy the old key."
    );
    Ok(())
}

/// `orgbase user import`: the report on stdout, progress on stderr.
async fn export_org(
    c: &server::Console,
    org: &str,
    include_secrets: bool,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use orgbase_service::OrgRef;
    let doc = c
        .services
        .portability()
        .export_as(&c.operator, &OrgRef::parse(org), include_secrets)
        .await
        .map_err(|e| match e.code() {
            "org_not_found" => anyhow::anyhow!("organization {org} not found"),
            _ => anyhow::anyhow!("{e}"),
        })?;
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    match out {
        None => print!("{text}"),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(path)
                .with_context(|| format!("creating {}", path.display()))?;
            std::io::Write::write_all(&mut file, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("exported {org} to {}", path.display());
        }
    }
    Ok(())
}

async fn import_users(
    c: &server::Console,
    bytes: &[u8],
    org: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use orgbase_service::{ImportPhase, OrgRef};
    let progress = |phase: ImportPhase, n: usize, total: usize| {
        if n == total || n.is_multiple_of(100) {
            let what = match phase {
                ImportPhase::Checking => "checking",
                ImportPhase::Writing => "writing",
            };
            eprint!("\r{what} row {n}/{total}");
            if n == total {
                eprintln!();
            }
        }
    };
    let report = c
        .services
        .access()
        .import_users_as(&c.operator, &OrgRef::parse(org), bytes, dry_run, &progress)
        .await
        .map_err(|e| match e.code() {
            "org_not_found" => anyhow::anyhow!("organization {org} not found"),
            _ => anyhow::anyhow!("{e}"),
        })?;
    println!("line\toutcome\temail\trole\tworkspace\tcode\treason");
    for r in &report.rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.line,
            r.outcome.as_str(),
            r.email,
            r.role.map_or("-", |x| x.as_str()),
            r.workspace_id.map_or("-".to_string(), |w| w.to_string()),
            r.code.unwrap_or("-"),
            r.reason
                .as_deref()
                .unwrap_or("-")
                .replace(['\t', '\n'], " "),
        );
    }
    let t = report.totals;
    let what = if report.executed {
        "imported"
    } else if dry_run {
        "dry run"
    } else {
        "refused"
    };
    println!(
        "{what}: {} rows: {} create, {} add, {} skip, {} error",
        t.rows, t.create, t.add, t.skip, t.error
    );
    if t.error > 0 {
        anyhow::bail!(
            "{} row(s) are errors; nothing was imported{}",
            t.error,
            if dry_run { " (dry run)" } else { "" }
        );
    }
    Ok(())
}

/// `orgbase [flags] bench ARGS`: runs `orgbase-bench [flags] ARGS`, the benchmark in a
/// binary of its own so the server carries no HTTP client. Checked before the command
/// line is parsed, so every argument goes along untouched.
fn bench_args() -> Option<Vec<OsString>> {
    let cli = Cli::command();
    let mut argv = std::env::args_os().skip(1);
    let mut before = Vec::new();
    while let Some(arg) = argv.next() {
        let text = arg.to_string_lossy();
        if !text.starts_with('-') {
            // The subcommand.
            return (text == "bench").then(|| before.into_iter().chain(argv).collect());
        }
        // A flag; those before the subcommand are settings, most with a value.
        let takes_value = text.strip_prefix("--").is_some_and(|long| {
            cli.get_arguments()
                .any(|a| a.get_long() == Some(long) && a.get_action().takes_values())
        });
        before.push(arg);
        if takes_value {
            before.extend(argv.next());
        }
    }
    None
}

fn bench(args: Vec<OsString>) -> anyhow::Result<()> {
    let Some(exe) = orgbase::exe::find("orgbase-bench") else {
        anyhow::bail!(
            "`orgbase bench` runs the orgbase-bench binary, which is neither beside this \
             orgbase nor on PATH; build it with `cargo build --release -p orgbase-bench`"
        );
    };
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).with_context(|| format!("running {}", exe.display()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .with_context(|| format!("running {}", exe.display()))?;
        std::process::exit(status.code().unwrap_or(1))
    }
}

async fn serve(s: &Settings, bind: &str) -> anyhow::Result<()> {
    let app = server::build(s, ConnectOptions::default()).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let addr = listener.local_addr()?;
    println!("Orgbase is listening on http://{addr}");
    println!(
        "  database: {} ({})",
        server::redact(&s.database_url),
        app.store.backend()
    );
    println!(
        "  panels:   http://{addr}/  (sign in; /admin for system admins, /org-admin for org admins)"
    );
    println!("  API:      http://{addr}/api/v1  (OpenAPI document at /api/v1/openapi.json)");
    println!("  health:   http://{addr}/healthz, /readyz, /metrics");
    if !app
        .services
        .system()
        .has_admin(&app.operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        println!();
        println!("There is no system admin yet. Create one with");
        println!("  echo 'a-long-password' | orgbase admin create --email you@example.com");
        println!("or start with ORGBASE_ADMIN_EMAIL and ORGBASE_ADMIN_PASSWORD set,");
        println!("then sign in at http://{addr}/ with that e-mail and password.");
    }
    if app.services.mail().configured() {
        println!(
            "  mail:     sent from the outbox over {}",
            s.smtp_url
                .as_deref()
                .map(server::redact)
                .unwrap_or_default()
        );
    } else {
        println!("  mail:     not configured (ORGBASE_SMTP_URL unset): mails stay in the outbox;");
        println!(
            "            `orgbase mail outbox` lists them, and invitation links are returned to admins"
        );
    }
    let worker = server::start_mail_worker(&app.services, s);
    let purger = server::start_purge_worker(&app.services, s);
    server::serve(listener, app.router, app.limits, shutdown_signal()).await?;
    for w in [worker, purger].into_iter().flatten() {
        w.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
