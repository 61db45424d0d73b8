//! Bulk user import (issue 8): a CSV file of `email,name,role[,workspace]` rows, first
//! validated row by row (nothing written), then carried out in one change.
//!
//! * Each row's outcome: `create` (a new account), `add` (an existing account becomes
//!   a member), `skip` (already a member; the reason says where) or `error` (a stable
//!   code and a reason).
//! * The rules are those of [`Access::create_user`]: roles up to the caller's
//!   grantable ceiling, never `owner`; e-mails only in a domain whose deciding proven
//!   claim is the org's (system admins and the operator: any e-mail); the access
//!   policy's lists. The domain rule holds for existing accounts too: an org admin
//!   cannot pull a stranger's account into their org (that takes an invitation).
//! * With a workspace, the role is the role in that workspace, and a newcomer joins the
//!   org as viewer (as an invitation into a workspace does).
//! * Carrying it out is one transaction under the org's lock: the rows are checked
//!   again inside it, any error row refuses the whole file, and `max_members` is
//!   enforced by the same admission as every other way in. New accounts get a one-time
//!   set-password link by mail (kind `account_created`, valid like an admin's link),
//!   queued in the same transaction; following it proves the address.

use std::collections::HashMap;

use orgbase_domain::{
    AuditAction, Email, MailKind, Membership, Name, Org, PageRequest, PasswordToken, Role, Scope,
    User, UserId, Workspace, WorkspaceId,
};
use orgbase_store::{AccessReads, HierarchyReads, OrgReads, UserReads};
use serde_json::json;

use super::Access;
use crate::Core;
use crate::error::{Error, Result};
use crate::shared::audit::{AuditCtx, Change, Event};
use crate::shared::authz::{OrgAccess, OrgRef, Platform, perm};
use crate::shared::crypto::{TokenKind, new_token};
use crate::shared::email_proof::deciding_claim_in;
use crate::shared::mail::MailOut;

/// Most rows one file may have.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// What happens to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Create,
    Add,
    Skip,
    Error,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Create => "create",
            ImportOutcome::Add => "add",
            ImportOutcome::Skip => "skip",
            ImportOutcome::Error => "error",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// The e-mail as given (normalized when it parses).
    pub email: String,
    pub name: String,
    pub role: Option<Role>,
    pub workspace_id: Option<WorkspaceId>,
    pub outcome: ImportOutcome,
    /// For `skip` and `error`: a stable code.
    pub code: Option<&'static str>,
    /// For `skip` and `error`: why, for people.
    pub reason: Option<String>,
    /// The account, when it exists (after an import, new ones too).
    pub user_id: Option<UserId>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportTotals {
    pub rows: usize,
    pub create: usize,
    pub add: usize,
    pub skip: usize,
    pub error: usize,
}

/// What an import found, and did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Whether the rows were written (never on a dry run, never with an error row).
    pub executed: bool,
    pub rows: Vec<ImportRow>,
    pub totals: ImportTotals,
}

impl ImportReport {
    /// An import that was asked to run and did not, because rows are errors.
    pub fn refused(&self) -> bool {
        !self.dry_run && !self.executed
    }
}

/// Which pass an import is in, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportPhase {
    Checking,
    Writing,
}

/// Called with the pass, the row done and the number of rows.
pub type ImportProgress<'a> = &'a (dyn Fn(ImportPhase, usize, usize) + Send + Sync);

/// A row as it is in the file, trimmed.
#[derive(Debug, Clone)]
struct RawRow {
    line: u64,
    email: String,
    name: String,
    role: String,
    workspace: String,
}

/// Who imports, and what that lets them do.
struct Importer {
    org: Org,
    ceiling: Role,
    any_email: bool,
    ctx: AuditCtx,
}

/// What to write for a row.
enum Step {
    Create {
        row: usize,
        email: Email,
        name: Name,
        role: Role,
        ws: Option<WorkspaceId>,
    },
    /// An existing account joins the org (and the workspace, if any).
    Join {
        user: User,
        role: Role,
        ws: Option<WorkspaceId>,
    },
    /// A member of the org joins a workspace.
    JoinWorkspace {
        user: UserId,
        role: Role,
        ws: WorkspaceId,
    },
}

fn bad(code: &'static str, message: impl Into<String>) -> Error {
    Error::bad_request(code, message)
}

/// Parses the file: UTF-8 (a byte-order mark is allowed), the header, at most
/// [`MAX_IMPORT_ROWS`] rows of as many fields as the header. Blank lines are skipped.
fn parse_csv(bytes: &[u8]) -> Result<Vec<RawRow>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(bad(
            "invalid_csv_encoding",
            format!(
                "the file is not UTF-8 (byte {} is not); save it as UTF-8 CSV",
                e.valid_up_to() + 1
            ),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(bytes, e))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let with_ws = match header.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["email", "name", "role"] => false,
        ["email", "name", "role", "workspace"] => true,
        _ => {
            return Err(bad(
                "invalid_csv_header",
                "the first line must be the header email,name,role or email,name,role,workspace",
            ));
        }
    };
    let mut rows = Vec::new();
    // Records come in order, so lines are counted once, forward (counting from the
    // start for every record made large files quadratic).
    let mut lines = LineCounter::default();
    for record in reader.records() {
        let record = record.map_err(|e| malformed(bytes, e))?;
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(bad(
                "too_many_rows",
                format!("a file may have at most {MAX_IMPORT_ROWS} rows; split it"),
            ));
        }
        // Trimmed here: the csv crate's own trimming drops the record's position.
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        rows.push(RawRow {
            line: record
                .position()
                .map_or(0, |p| lines.line_at(bytes, p.byte())),
            email: field(0),
            name: field(1),
            role: field(2),
            workspace: if with_ws { field(3) } else { String::new() },
        });
    }
    if rows.is_empty() {
        return Err(bad("empty_csv", "the file has a header but no rows"));
    }
    Ok(rows)
}

/// The line (from 1) of the record that starts at byte `at`. The csv crate's own line
/// count lags by one after a CRLF, so lines are counted here.
fn line_at(bytes: &[u8], at: u64) -> u64 {
    LineCounter::default().line_at(bytes, at)
}

/// Counts newlines up to a position, resuming from the last position asked about when
/// positions only grow.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], at: u64) -> u64 {
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        if at < self.pos {
            *self = Self::default();
        }
        self.newlines += bytes[self.pos..at].iter().filter(|&&b| b == b'\n').count();
        self.pos = at;
        u64::try_from(self.newlines)
            .unwrap_or(u64::MAX)
            .saturating_add(1)
    }
}

fn malformed(bytes: &[u8], e: csv::Error) -> Error {
    let line = e.position().map(|p| line_at(bytes, p.byte()));
    let why = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => {
            return bad("invalid_csv_encoding", "the file is not UTF-8");
        }
        _ => "is not valid CSV".to_string(),
    };
    match line {
        Some(l) => bad("malformed_csv", format!("line {l} {why}")),
        None => bad("malformed_csv", format!("the file {why}")),
    }
}

fn row_error(row: &mut ImportRow, code: &'static str, reason: impl Into<String>) {
    row.outcome = ImportOutcome::Error;
    row.code = Some(code);
    row.reason = Some(reason.into());
}

fn totals(rows: &[ImportRow]) -> ImportTotals {
    let mut t = ImportTotals {
        rows: rows.len(),
        ..Default::default()
    };
    for r in rows {
        match r.outcome {
            ImportOutcome::Create => t.create += 1,
            ImportOutcome::Add => t.add += 1,
            ImportOutcome::Skip => t.skip += 1,
            ImportOutcome::Error => t.error += 1,
        }
    }
    t
}

/// The workspace a cell names: its id, or its name (case-insensitive).
fn find_workspace<'w>(
    all: &'w [Workspace],
    cell: &str,
) -> std::result::Result<&'w Workspace, (&'static str, String)> {
    if let Ok(id) = uuid::Uuid::parse_str(cell)
        && let Some(w) = all.iter().find(|w| w.id.0 == id)
    {
        return Ok(w);
    }
    let named: Vec<&Workspace> = all
        .iter()
        .filter(|w| w.name.to_lowercase() == cell.to_lowercase())
        .collect();
    match named[..] {
        [w] => Ok(w),
        [] => Err((
            "unknown_workspace",
            format!("the organization has no workspace '{cell}'"),
        )),
        _ => Err((
            "ambiguous_workspace",
            format!("several workspaces are named '{cell}'; give its id"),
        )),
    }
}

impl Core {
    /// Checks every row against the state `reads` sees: the report, and what to write.
    /// Everything is read through `reads`: when importing, that is the change's own
    /// transaction, which holds the org's lock (a second connection from the pool could
    /// wait forever behind racing imports that each hold one).
    async fn plan_import<R>(
        &self,
        reads: &R,
        who: &Importer,
        raw: Vec<RawRow>,
        progress: ImportProgress<'_>,
    ) -> Result<(Vec<ImportRow>, Vec<Step>)>
    where
        R: UserReads + HierarchyReads + OrgReads + AccessReads + ?Sized,
    {
        let org = &who.org;
        let mut workspaces = Vec::new();
        let mut page = PageRequest::first(200);
        loop {
            let p = reads.workspaces(org.id, page).await?;
            workspaces.extend(p.items);
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        let max = crate::shared::provision::limits_of(org).max_members;
        let members = u64::try_from(reads.count_active_members(org.id).await?).unwrap_or(0);
        let mut room = max.map(|m| m.saturating_sub(members));
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut domains: HashMap<String, bool> = HashMap::new();
        let total = raw.len();
        let mut rows = Vec::with_capacity(total);
        let mut steps = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            progress(ImportPhase::Checking, i + 1, total);
            let mut row = ImportRow {
                line: r.line,
                email: r.email.clone(),
                name: r.name.clone(),
                role: None,
                workspace_id: None,
                outcome: ImportOutcome::Error,
                code: None,
                reason: None,
                user_id: None,
            };
            let email = match Email::parse(&r.email) {
                Ok(e) => e,
                Err(e) => {
                    row_error(&mut row, "invalid_email", e.message);
                    rows.push(row);
                    continue;
                }
            };
            row.email = email.as_str().to_string();
            if let Some(first) = seen.get(email.as_str()) {
                row_error(
                    &mut row,
                    "duplicate_row",
                    format!("the e-mail is on line {first} already"),
                );
                rows.push(row);
                continue;
            }
            seen.insert(email.as_str().to_string(), r.line);
            let role = match if r.role.is_empty() {
                Ok(Role::Viewer)
            } else {
                r.role.to_lowercase().parse::<Role>()
            } {
                Ok(Role::Owner) => {
                    row_error(
                        &mut row,
                        "owner_role",
                        "the owner role is only given by transferring ownership",
                    );
                    rows.push(row);
                    continue;
                }
                Ok(role) if role > who.ceiling => {
                    row_error(
                        &mut row,
                        "role_too_high",
                        format!("you cannot grant {role}, a role above your own"),
                    );
                    rows.push(row);
                    continue;
                }
                Ok(role) => role,
                Err(_) => {
                    row_error(
                        &mut row,
                        "unknown_role",
                        format!("'{}' is not viewer, editor or admin", r.role),
                    );
                    rows.push(row);
                    continue;
                }
            };
            row.role = Some(role);
            let ws = if r.workspace.is_empty() {
                None
            } else {
                match find_workspace(&workspaces, &r.workspace) {
                    Ok(w) => Some(w.id),
                    Err((code, why)) => {
                        row_error(&mut row, code, why);
                        rows.push(row);
                        continue;
                    }
                }
            };
            row.workspace_id = ws;
            if let Err(refusal) = self.cfg.policy.admits(&email) {
                row_error(&mut row, refusal.code(), refusal.message());
                rows.push(row);
                continue;
            }
            if !who.any_email {
                let domain = email.domain().to_string();
                let ours = match domains.get(&domain) {
                    Some(v) => *v,
                    None => {
                        let deciding = deciding_claim_in(reads, &domain).await?;
                        let v = deciding.is_some_and(|c| c.org_id == org.id);
                        domains.insert(domain, v);
                        v
                    }
                };
                if !ours {
                    row_error(
                        &mut row,
                        "domain_not_claimed",
                        "the e-mail must be in one of the organization's verified domains",
                    );
                    rows.push(row);
                    continue;
                }
            }
            let existing = reads.user_by_email(&email).await?;
            let (step, joins_org) = match existing {
                Some(u) => {
                    row.user_id = Some(u.id);
                    if !u.enabled {
                        row_error(&mut row, "user_disabled", "the account is disabled");
                        rows.push(row);
                        continue;
                    }
                    let in_org = reads
                        .membership(Scope::Org(org.id), u.id)
                        .await?
                        .filter(|m| m.is_active());
                    match (in_org, ws) {
                        (Some(m), None) => {
                            row.outcome = ImportOutcome::Skip;
                            row.code = Some("already_member");
                            row.reason = Some(format!(
                                "already a member of the organization as {}; import changes no roles",
                                m.role
                            ));
                            rows.push(row);
                            continue;
                        }
                        (Some(_), Some(w)) => {
                            let in_ws = reads
                                .membership(Scope::Workspace(w), u.id)
                                .await?
                                .filter(|m| m.is_active());
                            if let Some(m) = in_ws {
                                row.outcome = ImportOutcome::Skip;
                                row.code = Some("already_member");
                                row.reason = Some(format!(
                                    "already a member of the workspace as {}; import changes no roles",
                                    m.role
                                ));
                                rows.push(row);
                                continue;
                            }
                            (
                                Step::JoinWorkspace {
                                    user: u.id,
                                    role,
                                    ws: w,
                                },
                                false,
                            )
                        }
                        (None, _) => (Step::Join { user: u, role, ws }, true),
                    }
                }
                None => {
                    let name = match Name::parse(&r.name, "name") {
                        Ok(n) => n,
                        Err(e) => {
                            row_error(&mut row, "invalid_name", e.message);
                            rows.push(row);
                            continue;
                        }
                    };
                    (
                        Step::Create {
                            row: rows.len(),
                            email,
                            name,
                            role,
                            ws,
                        },
                        true,
                    )
                }
            };
            if joins_org && let Some(left) = room.as_mut() {
                if *left == 0 {
                    row_error(
                        &mut row,
                        "limit_exceeded",
                        format!(
                            "max_members: the organization would have more than {} members",
                            max.unwrap_or(0)
                        ),
                    );
                    rows.push(row);
                    continue;
                }
                *left -= 1;
            }
            row.outcome = match step {
                Step::Create { .. } => ImportOutcome::Create,
                _ => ImportOutcome::Add,
            };
            rows.push(row);
            steps.push(step);
        }
        Ok((rows, steps))
    }

    async fn run_import(
        &self,
        who: Importer,
        csv: &[u8],
        dry_run: bool,
        progress: ImportProgress<'_>,
    ) -> Result<ImportReport> {
        let raw = parse_csv(csv)?;
        if dry_run {
            let (rows, _) = self.plan_import(&*self.store, &who, raw, progress).await?;
            return Ok(ImportReport {
                dry_run,
                executed: false,
                totals: totals(&rows),
                rows,
            });
        }
        let mut change = self.change(who.ctx.clone()).await?;
        let org = change
            .lock_org(who.org.id)
            .await?
            .filter(|o| !o.is_deleted())
            .ok_or_else(Error::org_not_found)?;
        let who = Importer { org, ..who };
        let (mut rows, steps) = self.plan_import(&*change, &who, raw, progress).await?;
        let mut report = ImportReport {
            dry_run,
            executed: false,
            totals: totals(&rows),
            rows: Vec::new(),
        };
        if report.totals.error > 0 {
            // Nothing is written: the change is dropped, and rolled back.
            report.rows = rows;
            return Ok(report);
        }
        let n = steps.len();
        for (i, step) in steps.into_iter().enumerate() {
            progress(ImportPhase::Writing, i + 1, n);
            match step {
                Step::Create {
                    row,
                    email,
                    name,
                    role,
                    ws,
                } => {
                    let user = self
                        .import_create(&mut change, &who.org, email, name, role, ws)
                        .await?;
                    if let Some(r) = rows.get_mut(row) {
                        r.user_id = Some(user);
                    }
                }
                Step::Join { user, role, ws } => {
                    let org_role = if ws.is_some() { Role::Viewer } else { role };
                    self.join_org(
                        &mut change,
                        user.id,
                        who.org.id,
                        org_role,
                        AuditAction::MemberAdd,
                        Some("import"),
                    )
                    .await?;
                    if user.home_org_id.is_none() {
                        change
                            .set_home_org(user.id, Some(who.org.id), self.clock.now())
                            .await?;
                    }
                    if let Some(w) = ws {
                        import_workspace_member(&mut change, &who.org, user.id, role, w, self)
                            .await?;
                    }
                }
                Step::JoinWorkspace { user, role, ws } => {
                    import_workspace_member(&mut change, &who.org, user, role, ws, self).await?;
                }
            }
        }
        let t = report.totals;
        change
            .record(
                Event::new(AuditAction::UserImport, "org", who.org.id)
                    .org(who.org.id)
                    .details(json!({"rows": t.rows, "created": t.create, "added": t.add,
                                    "skipped": t.skip})),
            )
            .await?;
        change.commit().await?;
        report.executed = true;
        report.rows = rows;
        Ok(report)
    }

    /// A new account in the org, with a mailed one-time link to set its password.
    async fn import_create(
        &self,
        change: &mut Change<'_>,
        org: &Org,
        email: Email,
        name: Name,
        role: Role,
        ws: Option<WorkspaceId>,
    ) -> Result<UserId> {
        let now = self.clock.now();
        let user = User::new(UserId::new(now), email, name, false, now);
        if !change.insert_user(&user, None).await? {
            return Err(Error::conflict(
                "email_taken",
                format!(
                    "an account with the e-mail {} was made meanwhile; run the import again",
                    user.email
                ),
            ));
        }
        change
            .record(
                Event::new(AuditAction::UserCreate, "user", user.id)
                    .org(org.id)
                    .details(json!({"email": user.email, "via": "import",
                                    "set_password_link": true})),
            )
            .await?;
        let org_role = if ws.is_some() { Role::Viewer } else { role };
        self.join_org(
            change,
            user.id,
            org.id,
            org_role,
            AuditAction::MemberAdd,
            Some("import"),
        )
        .await?;
        change.set_home_org(user.id, Some(org.id), now).await?;
        if let Some(w) = ws {
            import_workspace_member(change, org, user.id, role, w, self).await?;
        }
        let t = new_token(TokenKind::PasswordLink)?;
        let expires_at = now.plus_seconds(self.cfg.password_link_ttl_secs);
        change
            .insert_password_token(&PasswordToken {
                token_hash: t.hash,
                user_id: user.id,
                // Mailed to the address: using it proves the address.
                mailed: true,
                created_at: now,
                expires_at,
            })
            .await?;
        change
            .enqueue_mail(MailOut {
                kind: MailKind::AccountCreated,
                to: user.email.clone(),
                org_name: Some(org.name.clone()),
                link: format!("{}/set-password?token={}", self.cfg.public_url, t.plaintext),
                expires_at,
            })
            .await?;
        Ok(user.id)
    }
}

/// Makes a member of the org a member of one of its workspaces, with a `member.add`.
async fn import_workspace_member(
    change: &mut Change<'_>,
    org: &Org,
    user: UserId,
    role: Role,
    ws: WorkspaceId,
    core: &Core,
) -> Result<()> {
    let now = core.clock.now();
    let invited_by = change.ctx().user;
    let m = Membership::active(Scope::Workspace(ws), org.id, user, role, invited_by, now);
    change.upsert_membership(&m).await?;
    change
        .record(
            Event::new(AuditAction::MemberAdd, "user", user)
                .org(org.id)
                .details(
                    json!({"scope": "workspace", "scope_id": ws, "user_id": user,
                                "role": role, "via": "import"}),
                ),
        )
        .await
}

impl Access<'_> {
    /// `POST /orgs/{org}/users/import`: an org admin (or a system admin) imports a CSV
    /// file of users into the org; `dry_run` only reports.
    pub async fn import_users(
        &self,
        access: &OrgAccess<perm::MembersManage>,
        csv: &[u8],
        dry_run: bool,
        progress: ImportProgress<'_>,
    ) -> Result<ImportReport> {
        let who = Importer {
            org: access.org().clone(),
            ceiling: access.grantable_ceiling(),
            any_email: access.is_system_admin(),
            ctx: access.audit(),
        };
        self.0.run_import(who, csv, dry_run, progress).await
    }

    /// `orgbase user import`: the operator (or a system admin) imports into any org,
    /// any e-mail, roles up to admin.
    pub async fn import_users_as(
        &self,
        by: &impl Platform,
        org: &OrgRef,
        csv: &[u8],
        dry_run: bool,
        progress: ImportProgress<'_>,
    ) -> Result<ImportReport> {
        let org = self
            .0
            .find_org(org)
            .await?
            .filter(|o| !o.is_deleted())
            .ok_or_else(Error::org_not_found)?;
        let who = Importer {
            org,
            ceiling: Role::Admin,
            any_email: true,
            ctx: by.audit(),
        };
        self.0.run_import(who, csv, dry_run, progress).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_checked_before_any_row() {
        let code = |b: &[u8]| parse_csv(b).unwrap_err().code();
        assert_eq!(
            code(b"mail,name,role\na@x.test,A,viewer\n"),
            "invalid_csv_header"
        );
        assert_eq!(code(b""), "invalid_csv_header");
        assert_eq!(code(b"email,name,role\n"), "empty_csv");
        assert_eq!(
            code(b"email,name,role\na@x.test,\xff,viewer\n"),
            "invalid_csv_encoding"
        );
        assert_eq!(code(b"email,name,role\na@x.test,A\n"), "malformed_csv");
        let e = parse_csv(b"email,name,role\na@x.test,A,viewer\nb@x.test,B\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3 has 2 fields where the header has 3");
        let mut big = String::from("email,name,role\n");
        for i in 0..=MAX_IMPORT_ROWS {
            big.push_str(&format!("u{i}@x.test,U,viewer\n"));
        }
        assert_eq!(code(big.as_bytes()), "too_many_rows");
    }

    #[test]
    fn rows_keep_their_lines_and_fields() {
        let simple = parse_csv(b"email,name,role\na@x.test,A,viewer\nb@x.test,B,viewer\n").unwrap();
        assert_eq!((simple[0].line, simple[1].line), (2, 3));
        let rows = parse_csv(
            b"\xEF\xBB\xBFEmail,Name,Role,Workspace\r\n a@x.test ,\"Ann, B\",editor,Default\r\n\r\nb@x.test,B,,\r\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].name.as_str()), (2, "Ann, B"));
        assert_eq!(rows[0].email, "a@x.test");
        assert_eq!(rows[0].workspace, "Default");
        assert_eq!((rows[1].line, rows[1].role.as_str()), (4, ""));
    }
}
