-- Change notices for the read cache of every node (ADR 0024): a statement that changes
-- a table whose rows a node may cache notifies the channel `orgbase_<schema>` when its
-- transaction commits, whoever runs it: an Orgbase node, the CLI, or an operator's
-- hand-written SQL. Notices with the same payload in one transaction are delivered once.
-- (The function body is one line: migrations are split into statements at ";\n".)
CREATE FUNCTION orgbase_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('orgbase_' || left(TG_TABLE_SCHEMA, 48), ''); RETURN NULL; END $$;

CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sessions FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON org_api_keys FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON orgs FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON org_members FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON workspaces FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON workspace_members FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON project_members FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assistants FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON assistant_orgs FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON org_domains FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
CREATE TRIGGER orgbase_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON invitations FOR EACH STATEMENT EXECUTE FUNCTION orgbase_changed();
