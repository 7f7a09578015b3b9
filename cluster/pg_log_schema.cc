#include "cluster/pg_log_schema.h"

#include <string>

namespace fundledger {
namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE log_heads (
  log_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  origin text NOT NULL UNIQUE,
  next_index bigint NOT NULL DEFAULT 0 CHECK (next_index >= 0),
  last_leaf_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
    CHECK (octet_length(last_leaf_hash) = 32),
  writer_epoch bigint NOT NULL DEFAULT 0,
  writer_node text NOT NULL DEFAULT '',
  settled_at timestamptz
);
CREATE TABLE log_entries (
  log_id integer NOT NULL,
  idx bigint NOT NULL CHECK (idx >= 0),
  entry bytea NOT NULL,
  leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
  PRIMARY KEY (log_id, idx)
);
ALTER TABLE log_entries ALTER COLUMN entry SET STORAGE EXTERNAL;
CREATE TABLE log_checkpoints (
  log_id integer NOT NULL,
  size bigint NOT NULL CHECK (size >= 0),
  note text NOT NULL,
  PRIMARY KEY (log_id, size)
);
CREATE FUNCTION fundledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
  FOR EACH ROW EXECUTE FUNCTION fundledger_refuse_change();
CREATE TRIGGER log_entries_no_truncate BEFORE TRUNCATE ON log_entries
  FOR EACH STATEMENT EXECUTE FUNCTION fundledger_refuse_change();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION fundledger_refuse_change();
CREATE TRIGGER log_checkpoints_no_truncate BEFORE TRUNCATE ON log_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION fundledger_refuse_change();
CREATE TABLE fundledger_schema (version integer NOT NULL);
INSERT INTO fundledger_schema VALUES (1);
)sql";

// The schema's version, or 0 when the database has none.
Result<int32_t> SchemaVersion(PgConnection& conn, Deadline deadline) {
  FL_ASSIGN_OR_RETURN(PgResult exists,
                      conn.Exec("SELECT to_regclass('fundledger_schema') IS NOT NULL", deadline));
  if (!exists.Bool(0, 0)) return 0;
  FL_ASSIGN_OR_RETURN(PgResult version,
                      conn.Exec("SELECT max(version) FROM fundledger_schema", deadline));
  if (version.Rows() != 1 || version.IsNull(0, 0)) {
    return Corruption("table fundledger_schema holds no version");
  }
  return version.Int32(0, 0);
}

Status CheckVersion(int32_t version) {
  if (version > kLogSchemaVersion) {
    return Corruption("the database holds fundledger schema version " + std::to_string(version) +
                      "; this build knows up to " + std::to_string(kLogSchemaVersion));
  }
  return Status::Ok();
}

}  // namespace

Status EnsureLogSchema(PgConnection& conn, bool create, Deadline deadline) {
  static_assert(kLogSchemaVersion == 1, "kSchemaV1 creates version 1; add a migration");
  if (!create) {
    FL_ASSIGN_OR_RETURN(int32_t version, SchemaVersion(conn, deadline));
    if (version == 0) return NotFound("the database holds no fundledger log schema");
    return CheckVersion(version);
  }
  FL_RETURN_IF_ERROR(conn.ExecScript("BEGIN", deadline));
  Status status = [&]() -> Status {
    FL_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock($1, 0)",
                                 PgParams().Int32(kSchemaLockClass), deadline)
                           .status());
    FL_ASSIGN_OR_RETURN(int32_t version, SchemaVersion(conn, deadline));
    if (version == 0) FL_RETURN_IF_ERROR(conn.ExecScript(kSchemaV1, deadline));
    return CheckVersion(version);
  }();
  if (!status.ok()) {
    if (conn.Usable()) (void)conn.ExecScript("ROLLBACK", deadline);
    return status;
  }
  return conn.ExecScript("COMMIT", deadline);
}

Result<int32_t> EnsureLogHead(PgConnection& conn, std::string_view origin, bool create,
                              Deadline deadline) {
  if (origin.empty() || origin.size() > kOriginBytesMax) {
    return InvalidArgument("a log origin has 1 to " + std::to_string(kOriginBytesMax) + " bytes")
        .WithField("origin");
  }
  if (create) {
    FL_RETURN_IF_ERROR(conn.Exec("INSERT INTO log_heads (origin) VALUES ($1) "
                                 "ON CONFLICT (origin) DO NOTHING",
                                 PgParams().Text(origin), deadline)
                           .status());
  }
  FL_ASSIGN_OR_RETURN(PgResult r, conn.Exec("SELECT log_id FROM log_heads WHERE origin = $1",
                                            PgParams().Text(origin), deadline));
  if (r.Rows() != 1) return NotFound("no log with origin \"" + std::string(origin) + "\"");
  return r.Int32(0, 0);
}

}  // namespace fundledger
