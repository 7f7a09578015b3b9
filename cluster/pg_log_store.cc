#include "cluster/pg_log_store.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "cluster/pg_log_schema.h"
#include "crypto/checkpoint.h"
#include "crypto/merkle.h"

namespace fundledger {
namespace {

constexpr size_t kCopyChunkBytes = size_t{1} << 20;
static_assert(kPgReadEntriesMax * kPgEntryBytesMax <= size_t{256} << 20,
              "a ReadEntries result fits in 256 MiB");
// COPY BINARY: signature, flags (int32 0), header extension length (int32 0).
constexpr std::string_view kCopyHeader{"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 19};
constexpr std::string_view kHeadColumns = "next_index, last_leaf_hash, writer_epoch, writer_node";

void PutInt16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void PutInt32(std::string& out, uint32_t v) {
  uint8_t b[4];
  PutBigEndian32(v, b);
  out.append(reinterpret_cast<const char*>(b), 4);
}
void PutInt64(std::string& out, uint64_t v) {
  uint8_t b[8];
  PutBigEndian64(v, b);
  out.append(reinterpret_cast<const char*>(b), 8);
}

// One log_entries row (log_id, idx, entry, leaf_hash) in COPY BINARY form.
void AppendCopyRow(std::string& out, int32_t log_id, uint64_t index, const GroupEntry& entry) {
  PutInt16(out, 4);
  PutInt32(out, 4);
  PutInt32(out, static_cast<uint32_t>(log_id));
  PutInt32(out, 8);
  PutInt64(out, index);
  PutInt32(out, static_cast<uint32_t>(entry.bytes.size()));
  out.append(AsChars(entry.bytes));
  PutInt32(out, kHashBytes);
  out.append(AsChars(entry.leaf_hash));
}

std::string Ms(int64_t ms) { return std::to_string(ms) + " ms"; }

Status WithRule(Status status, std::string_view rule) {
  status.WithRule(std::string(rule));
  return status;
}

}  // namespace

Result<std::unique_ptr<PgLogStore>> PgLogStore::Connect(PgLogOptions options) {
  std::unique_ptr<PgLogStore> store(new PgLogStore(std::move(options)));
  FL_RETURN_IF_ERROR(store->EnsureConnected());
  const bool create = !store->options_.read_only;
  Deadline deadline = DeadlineAfterMs(kPgStatementWaitMs);
  FL_RETURN_IF_ERROR(EnsureLogSchema(*store->conn_, create, deadline));
  FL_ASSIGN_OR_RETURN(store->log_id_,
                      EnsureLogHead(*store->conn_, store->options_.origin, create, deadline));
  store->channel_ = "fundledger_log_" + std::to_string(store->log_id_);
  return store;
}

Status PgLogStore::EnsureConnected(int64_t wait_ms) {
  if (conn_ != nullptr && conn_->Usable()) return Status::Ok();
  conn_.reset();
  lock_held_ = listening_ = listen_unavailable_ = false;
  // Keepalives notice a server that vanished without closing its sockets.
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"connect_timeout", std::to_string(kPgConnectTimeoutMs / 1000)},
      {"keepalives", "1"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"application_name", "fundledger"}};
  std::vector<std::pair<std::string, std::string>> forced;
  if (!options_.read_only) forced.emplace_back("target_session_attrs", "read-write");
  const std::string session =
      "SET synchronous_commit = on; SET statement_timeout = 0; "
      "SET idle_in_transaction_session_timeout = " +
      std::to_string(kPgIdleInTransactionMs);
  Deadline deadline = DeadlineAfterMs(wait_ms);
  for (;;) {
    Result<std::unique_ptr<PgConnection>> conn =
        PgConnection::Connect(options_.dsn, defaults, forced);
    Status last = conn.status();
    if (conn.ok()) {
      last = (*conn)->ExecScript(session, DeadlineAfterMs(kPgStatementWaitMs));
      if (last.ok()) {
        conn_ = std::move(*conn);
        ++connections_made_;
        return Status::Ok();
      }
    }
    auto wake =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kPgReconnectIntervalMs);
    if (wake >= deadline) {
      return IoError(std::string("no ") + (options_.read_only ? "" : "read-write ") +
                     "PostgreSQL server within " + Ms(wait_ms) + ": " + last.message());
    }
    std::this_thread::sleep_until(wake);
  }
}

Result<LogHead> PgLogStore::ReadHead(std::string_view sql, const PgParams& params,
                                     Deadline deadline) {
  FL_ASSIGN_OR_RETURN(PgResult r, conn_->Exec(sql, params, deadline));
  if (r.Rows() != 1) return NotFound("the head row of log \"" + options_.origin + "\" is gone");
  LogHead head;
  head.next_index = static_cast<uint64_t>(r.Int64(0, 0));
  Result<Hash> last = HashFromBytes(r.Bytes(0, 1));
  if (!last.ok()) return Corruption("log_heads.last_leaf_hash is not 32 bytes");
  head.last_leaf_hash = *last;
  head.writer_epoch = static_cast<uint64_t>(r.Int64(0, 2));
  head.writer_node = std::string(AsChars(r.Bytes(0, 3)));
  return head;
}

Result<LogHead> PgLogStore::Head() {
  FL_RETURN_IF_ERROR(EnsureConnected());
  return ReadHead("SELECT " + std::string(kHeadColumns) + " FROM log_heads WHERE log_id = $1",
                  PgParams().Int32(log_id_), DeadlineAfterMs(kPgStatementWaitMs));
}

Status PgLogStore::CommitAcknowledged(Deadline deadline, const std::string& what) {
  conn_->TakeNotices();
  Result<PgResult> r = conn_->Exec("COMMIT", deadline);
  if (!r.ok()) return FailedCommit(r.status(), what);
  if (std::string_view(PQcmdStatus(r->get())) != "COMMIT") {
    return WithRule(IoError(what + " was rolled back by the server"), kNotCommitted);
  }
  return Acknowledged(what, "COMMIT");
}

Status PgLogStore::FailedCommit(const Status& failed, const std::string& what) {
  // The server may have committed before the connection broke or the deadline closed it.
  if (!conn_->Usable()) {
    return WithRule(IoError(what + " is in doubt: " + failed.message()), kCommitInDoubt);
  }
  return WithRule(IoError(what + " was not committed: " + failed.message()), kNotCommitted);
}

Status PgLogStore::Acknowledged(const std::string& what, std::string_view commit) {
  std::vector<PgNotice> notices = conn_->TakeNotices();
  if (notices.empty()) return Status::Ok();
  const PgNotice& n = notices.front();
  return WithRule(
      IoError(what + " is in doubt: " + std::string(commit) + " drew " + n.severity + " " +
              n.sqlstate + " \"" + n.message + (n.detail.empty() ? "" : " " + n.detail) + "\""),
      kCommitInDoubt);
}

Result<bool> PgLogStore::TryWriterLock() {
  FL_ASSIGN_OR_RETURN(PgResult got, conn_->Exec("SELECT pg_try_advisory_lock($1, $2)",
                                                PgParams().Int32(kWriterLockClass).Int32(log_id_),
                                                DeadlineAfterMs(kPgStatementWaitMs)));
  lock_held_ = got.Bool(0, 0);
  return lock_held_;
}

Status PgLogStore::WaitForWriterLock(bool evict_holder) {
  Deadline deadline = DeadlineAfterMs(kPgStatementWaitMs);
  const PgParams key = PgParams().Int32(kWriterLockClass).Int32(log_id_);
  if (evict_holder) {
    FL_RETURN_IF_ERROR(
        conn_
            ->Exec("SELECT pg_terminate_backend(pid, $3) FROM pg_locks WHERE locktype = "
                   "'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = "
                   "current_database()) AND classid = $1::oid AND objid = $2::oid AND "
                   "objsubid = 2 AND granted",
                   PgParams(key).Int64(kPgWriterLockWaitMs), deadline)
            .status());
  }
  FL_RETURN_IF_ERROR(
      conn_->ExecScript("SET lock_timeout = " + std::to_string(kPgWriterLockWaitMs), deadline));
  Result<PgResult> locked = conn_->Exec("SELECT pg_advisory_lock($1, $2)", key, deadline);
  const std::string sqlstate = conn_->SqlState();
  if (conn_->Usable()) FL_RETURN_IF_ERROR(conn_->ExecScript("SET lock_timeout = 0", deadline));
  if (locked.ok()) {
    lock_held_ = true;
    return Status::Ok();
  }
  if (sqlstate != "55P03") return locked.status();  // 55P03: lock_not_available
  Result<LogHead> head = Head();
  return WithRule(Conflict("another session holds the writer lock of log \"" + options_.origin +
                           "\" (the head names node \"" + (head.ok() ? head->writer_node : "?") +
                           "\"); waited " + Ms(kPgWriterLockWaitMs)),
                  kWriterLockHeld);
}

Result<WriterLease> PgLogStore::AcquireWriter(std::string_view node, bool evict_holder) {
  return Acquire(node, evict_holder, /*wait=*/true);
}

Result<WriterLease> PgLogStore::TryAcquireWriter(std::string_view node) {
  return Acquire(node, /*evict_holder=*/false, /*wait=*/false);
}

Result<WriterLease> PgLogStore::Acquire(std::string_view node, bool evict_holder, bool wait) {
  if (options_.read_only) {
    return InvalidArgument("a read-only store cannot write").WithField("read_only");
  }
  if (node.empty() || node.size() > kPgNodeNameBytesMax) {
    return InvalidArgument("a node name has 1 to " + std::to_string(kPgNodeNameBytesMax) + " bytes")
        .WithField("node");
  }
  FL_RETURN_IF_ERROR(EnsureConnected());
  if (!lock_held_) {
    FL_ASSIGN_OR_RETURN(bool got, TryWriterLock());
    if (!got && !wait) {
      return WithRule(
          Conflict("another session holds the writer lock of log \"" + options_.origin + "\""),
          kWriterLockHeld);
    }
    if (!got) FL_RETURN_IF_ERROR(WaitForWriterLock(evict_holder));
  }
  Deadline deadline = DeadlineAfterMs(kPgStatementWaitMs);
  FL_RETURN_IF_ERROR(conn_->ExecScript("BEGIN", deadline));
  Result<LogHead> head = ReadHead(
      "UPDATE log_heads SET writer_epoch = writer_epoch + 1, writer_node = $2 "
      "WHERE log_id = $1 RETURNING " +
          std::string(kHeadColumns),
      PgParams().Int32(log_id_).Text(node), deadline);
  if (!head.ok()) {
    if (conn_->Usable()) (void)conn_->ExecScript("ROLLBACK", deadline);
    return head.status();
  }
  FL_RETURN_IF_ERROR(CommitAcknowledged(DeadlineAfterMs(kPgCommitWaitMs), "the writer epoch bump"));
  lease_epoch_ = head->writer_epoch;
  return WriterLease{head->writer_epoch, *head};
}

Status PgLogStore::CheckGroup(const AppendGroupRequest& group) const {
  if (options_.read_only) {
    return InvalidArgument("a read-only store cannot write").WithField("read_only");
  }
  if (!lease_epoch_ || *lease_epoch_ != group.epoch) {
    return WithRule(Conflict("this store holds no writer lease of epoch " +
                             std::to_string(group.epoch) + " of log \"" + options_.origin + "\""),
                    kWriterFenced);
  }
  const size_t n = group.entries.size();
  if (n > kPgGroupEntriesMax) {
    return TooLarge("a commit group holds at most " + std::to_string(kPgGroupEntriesMax) +
                    " entries, not " + std::to_string(n))
        .WithField("entries");
  }
  if (n == 0 && group.checkpoint_note.empty()) {
    return InvalidArgument("a commit group appends entries, a checkpoint or both")
        .WithField("entries");
  }
  if (group.first_index > uint64_t{std::numeric_limits<int64_t>::max()} - n) {
    return InvalidArgument("the group's indexes overflow a bigint").WithField("first_index");
  }
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t size = group.entries[i].bytes.size();
    if (size == 0 || size > kPgEntryBytesMax) {
      return InvalidArgument("entry " + std::to_string(group.first_index + i) + " has " +
                             std::to_string(size) + " bytes; an entry has 1 to " +
                             std::to_string(kPgEntryBytesMax))
          .WithField("entries")
          .WithLine(i + 1);
    }
    bytes += size;
  }
  if (bytes > kPgGroupBytesMax) {
    return TooLarge("a commit group holds at most " + std::to_string(kPgGroupBytesMax) +
                    " entry bytes, not " + std::to_string(bytes))
        .WithField("entries");
  }
  if (!group.checkpoint_note.empty()) FL_RETURN_IF_ERROR(CheckCheckpoint(group));
  return Status::Ok();
}

Status PgLogStore::CheckCheckpoint(const AppendGroupRequest& group) const {
  const uint64_t size = group.first_index + group.entries.size();
  Result<Note> note = ParseNote(group.checkpoint_note);
  Result<Checkpoint> checkpoint =
      note.ok() ? ParseCheckpoint(note->text) : Result<Checkpoint>(note.status());
  if (!checkpoint.ok()) {
    return InvalidArgument("the checkpoint is not a signed checkpoint note: " +
                           checkpoint.status().message())
        .WithField("checkpoint_note");
  }
  if (checkpoint->origin != options_.origin || checkpoint->size != size) {
    return InvalidArgument("the checkpoint signs size " + std::to_string(checkpoint->size) +
                           " of \"" + checkpoint->origin + "\"; the group ends log \"" +
                           options_.origin + "\" at size " + std::to_string(size))
        .WithField("checkpoint_note");
  }
  return Status::Ok();
}

Status PgLogStore::CopyEntries(const AppendGroupRequest& group, Deadline deadline) {
  size_t next = 0;
  bool header_sent = false;
  auto fill = [&](std::string& chunk) {
    if (!header_sent) chunk.append(kCopyHeader), header_sent = true;
    while (next < group.entries.size() && chunk.size() < kCopyChunkBytes) {
      AppendCopyRow(chunk, log_id_, group.first_index + next, group.entries[next]);
      ++next;
    }
    if (next < group.entries.size()) return true;
    PutInt16(chunk, 0xFFFF);  // the trailer: a field count of -1
    return false;
  };
  // COPY BINARY rather than INSERT ... unnest(bytea[]): 65,536 entries of 200 bytes in 0.3 s
  // against 0.55 s (of 1,600 bytes: 1.8 s against 1.8-3.4 s) on the Patroni cluster.
  return conn_->CopyIn(
      "COPY log_entries (log_id, idx, entry, leaf_hash) FROM STDIN (FORMAT binary)", fill,
      deadline);
}

Status PgLogStore::WriteGroup(const AppendGroupRequest& group) {
  Deadline deadline = DeadlineAfterMs(kPgGroupWaitMs);
  const uint64_t end = group.first_index + group.entries.size();
  const Hash& last = group.entries.empty() ? group.prev_leaf_hash : group.entries.back().leaf_hash;
  FL_RETURN_IF_ERROR(conn_->ExecScript("BEGIN", deadline));
  // The compare-and-set first: a fenced writer stops here, before sending any entry. Its
  // RETURNING queues the NOTIFY followers wait on (sent at COMMIT), sparing a round trip.
  FL_ASSIGN_OR_RETURN(
      PgResult cas,
      conn_->Exec("UPDATE log_heads SET next_index = $2, last_leaf_hash = $3 WHERE log_id = $1 "
                  "AND next_index = $4 AND last_leaf_hash = $5 AND writer_epoch = $6 "
                  "RETURNING pg_notify($7, $2::text)",
                  PgParams()
                      .Int32(log_id_)
                      .Int64(static_cast<int64_t>(end))
                      .Bytes(last)
                      .Int64(static_cast<int64_t>(group.first_index))
                      .Bytes(group.prev_leaf_hash)
                      .Int64(static_cast<int64_t>(group.epoch))
                      .Text(channel_),
                  deadline));
  if (cas.Rows() != 1) return FencedOrMoved(group, deadline);
  if (!group.entries.empty()) FL_RETURN_IF_ERROR(CopyEntries(group, deadline));
  if (group.checkpoint_note.empty()) return Status::Ok();
  return conn_
      ->Exec("INSERT INTO log_checkpoints (log_id, size, note) VALUES ($1, $2, $3)",
             PgParams().Int32(log_id_).Int64(static_cast<int64_t>(end)).Text(group.checkpoint_note),
             deadline)
      .status();
}

// The head's compare-and-set, the entries and the checkpoint in one statement: its own
// transaction, committed (and waited for by the synchronous standby) at the protocol's Sync.
// The inserts run only when the compare-and-set matched a row.
constexpr std::string_view kAppendStatement =
    "WITH head AS (UPDATE log_heads SET next_index = $2, last_leaf_hash = $3 WHERE log_id = $1 "
    "AND next_index = $4 AND last_leaf_hash = $5 AND writer_epoch = $6 "
    "RETURNING pg_notify($7, $2::text)), "
    "entries AS (INSERT INTO log_entries (log_id, idx, entry, leaf_hash) "
    "SELECT $1, $4 + e.ord - 1, e.entry, e.leaf_hash "
    "FROM unnest($8::bytea[], $9::bytea[]) WITH ORDINALITY AS e(entry, leaf_hash, ord) "
    "WHERE EXISTS (SELECT FROM head)), "
    "checkpoint AS (INSERT INTO log_checkpoints (log_id, size, note) "
    "SELECT $1, $2, $10 WHERE $10 <> '' AND EXISTS (SELECT FROM head)) "
    "SELECT count(*) FROM head";

Status PgLogStore::AppendInOneStatement(const AppendGroupRequest& group, const std::string& what) {
  Status status = SendOneStatement(group, what);
  if (status.rule() != kCommitInDoubt || conn_->Usable()) return status;
  // The connection broke, perhaps before the statement reached the server (it ended the
  // session, or died). Settled on a new connection; absent, the group goes once more there, as
  // a large group does when its connection breaks before COMMIT.
  Result<SettleOutcome> settled = SettleInDoubt(group);
  if (!settled.ok()) return settled.status();
  if (settled->committed) return Status::Ok();
  return SendOneStatement(group, what);
}

Status PgLogStore::SendOneStatement(const AppendGroupRequest& group, const std::string& what) {
  Status ready = ConnectedWithLock(what);
  if (!ready.ok()) {  // nothing was sent
    if (ready.rule().empty()) ready.WithRule(std::string(kNotCommitted));
    return ready;
  }
  const uint64_t end = group.first_index + group.entries.size();
  const Hash& last = group.entries.empty() ? group.prev_leaf_hash : group.entries.back().leaf_hash;
  const std::span<const GroupEntry> entries = group.entries;
  PgParams params;
  params.Int32(log_id_)
      .Int64(static_cast<int64_t>(end))
      .Bytes(last)
      .Int64(static_cast<int64_t>(group.first_index))
      .Bytes(group.prev_leaf_hash)
      .Int64(static_cast<int64_t>(group.epoch))
      .Text(channel_)
      .ByteaArray(entries.size(), [&](size_t i) { return ByteView(entries[i].bytes); })
      .ByteaArray(entries.size(), [&](size_t i) { return ByteView(entries[i].leaf_hash); })
      .Text(group.checkpoint_note);
  conn_->TakeNotices();
  Result<PgResult> r = conn_->Exec(kAppendStatement, params, DeadlineAfterMs(kPgCommitWaitMs));
  if (!r.ok()) return FailedCommit(r.status(), what);
  if (r->Int64(0, 0) != 1) return FencedOrMoved(group, DeadlineAfterMs(kPgStatementWaitMs));
  return Acknowledged(what, "its commit");
}

Status PgLogStore::FencedOrMoved(const AppendGroupRequest& group, Deadline deadline) {
  FL_ASSIGN_OR_RETURN(LogHead head, ReadHead("SELECT " + std::string(kHeadColumns) +
                                                 " FROM log_heads WHERE log_id = $1",
                                             PgParams().Int32(log_id_), deadline));
  if (head.writer_epoch != group.epoch) {
    lease_epoch_.reset();
    return WithRule(
        Conflict("writer epoch " + std::to_string(group.epoch) + " of log \"" + options_.origin +
                 "\" was superseded by epoch " + std::to_string(head.writer_epoch) + " (node \"" +
                 head.writer_node + "\"); nothing was appended"),
        kWriterFenced);
  }
  return WithRule(
      Conflict("the head of log \"" + options_.origin + "\" is at index " +
               std::to_string(head.next_index) + " (leaf hash " + HashHex(head.last_leaf_hash) +
               "), the group expected index " + std::to_string(group.first_index) + " (leaf hash " +
               HashHex(group.prev_leaf_hash) + "); nothing was appended"),
      kHeadMoved);
}

Status PgLogStore::StartGroup(const AppendGroupRequest& group, const std::string& what) {
  FL_RETURN_IF_ERROR(ConnectedWithLock(what));
  return WriteGroup(group);
}

Status PgLogStore::ConnectedWithLock(const std::string& what) {
  FL_RETURN_IF_ERROR(EnsureConnected());
  if (!lock_held_) {
    // A new connection (a failover): the lock went with the old one. Whoever holds it now
    // took over.
    FL_ASSIGN_OR_RETURN(bool got, TryWriterLock());
    if (!got) {
      return Fenced("another session holds the writer lock of log \"" + options_.origin + "\"; " +
                    what + " was not appended");
    }
  }
  return Status::Ok();
}

Status PgLogStore::Fenced(const std::string& why) {
  lease_epoch_.reset();
  return WithRule(Conflict(why), kWriterFenced);
}

Status PgLogStore::KeepLease() {
  if (!lease_epoch_)
    return Fenced("this store holds no writer lease of log \"" + options_.origin + "\"");
  FL_RETURN_IF_ERROR(
      EnsureConnected(std::min(options_.reconnect_wait_ms, kPgKeepLeaseReconnectMs)));
  if (!lock_held_) {
    FL_ASSIGN_OR_RETURN(bool got, TryWriterLock());
    if (!got) {
      return Fenced("another session holds the writer lock of log \"" + options_.origin +
                    "\" (this writer's session ended)");
    }
  }
  FL_RETURN_IF_ERROR(
      conn_->ExecScript("SET idle_session_timeout = " + std::to_string(kPgWriterSessionIdleMs),
                        DeadlineAfterMs(kPgStatementWaitMs)));
  FL_ASSIGN_OR_RETURN(LogHead head, Head());
  if (head.writer_epoch != *lease_epoch_) {
    return Fenced("writer epoch " + std::to_string(*lease_epoch_) + " of log \"" + options_.origin +
                  "\" was superseded by epoch " + std::to_string(head.writer_epoch) + " (node \"" +
                  head.writer_node + "\")");
  }
  return Status::Ok();
}

Status PgLogStore::AppendGroup(const AppendGroupRequest& group) {
  FL_RETURN_IF_ERROR(CheckGroup(group));
  if (in_doubt_) {
    return WithRule(IoError("an earlier group of this writer is in doubt; SettleInDoubt first"),
                    kCommitInDoubt);
  }
  const std::string what = "the group of " + std::to_string(group.entries.size()) +
                           " entries at index " + std::to_string(group.first_index);
  if (group.entries.size() <= kPgOneStatementEntriesMax) {
    Status status = AppendInOneStatement(group, what);
    if (status.rule() == kCommitInDoubt) in_doubt_ = true;
    return status;
  }
  const bool had_connection = conn_ != nullptr && conn_->Usable();
  Status status = StartGroup(group, what);
  if (!status.ok() && status.rule().empty() && had_connection && !conn_->Usable()) {
    // The connection broke before COMMIT (the server ended it, or died): nothing was appended.
    // Once more on a new connection, which finds a new primary or the writer fenced.
    status = StartGroup(group, what);
  }
  if (!status.ok()) {
    if (conn_ != nullptr && conn_->Usable()) {
      (void)conn_->ExecScript("ROLLBACK", DeadlineAfterMs(kPgStatementWaitMs));
    }
    if (status.rule().empty()) status.WithRule(std::string(kNotCommitted));
    return status;
  }
  status = CommitAcknowledged(DeadlineAfterMs(kPgCommitWaitMs), what);
  if (status.rule() == kCommitInDoubt) in_doubt_ = true;
  return status;
}

Result<bool> PgLogStore::GroupPresent(const AppendGroupRequest& group, const LogHead& head,
                                      Deadline deadline) {
  const uint64_t end = group.first_index + group.entries.size();
  if (head.next_index < end) return false;
  if (group.entries.empty()) {
    FL_ASSIGN_OR_RETURN(
        PgResult r,
        conn_->Exec("SELECT note FROM log_checkpoints WHERE log_id = $1 "
                    "AND size = $2",
                    PgParams().Int32(log_id_).Int64(static_cast<int64_t>(end)), deadline));
    return r.Rows() == 1 && AsChars(r.Bytes(0, 0)) == group.checkpoint_note;
  }
  // The group's first and last rows carry its leaf hashes only if its transaction committed.
  FL_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Exec("SELECT leaf_hash FROM log_entries WHERE log_id = $1 AND idx IN ($2, $3) "
                  "ORDER BY idx",
                  PgParams()
                      .Int32(log_id_)
                      .Int64(static_cast<int64_t>(group.first_index))
                      .Int64(static_cast<int64_t>(end - 1)),
                  deadline));
  const int expected_rows = group.entries.size() == 1 ? 1 : 2;
  return r.Rows() == expected_rows && r.Bytes(0, 0).size() == kHashBytes &&
         std::equal(group.entries.front().leaf_hash.begin(), group.entries.front().leaf_hash.end(),
                    r.Bytes(0, 0).begin()) &&
         std::equal(group.entries.back().leaf_hash.begin(), group.entries.back().leaf_hash.end(),
                    r.Bytes(expected_rows - 1, 0).begin());
}

Result<SettleOutcome> PgLogStore::SettleInDoubt(const AppendGroupRequest& group) {
  if (options_.read_only) {
    return InvalidArgument("a read-only store cannot write").WithField("read_only");
  }
  auto in_doubt = [](const Status& s) {
    return WithRule(IoError("still in doubt: " + s.message()), kCommitInDoubt);
  };
  Status status = EnsureConnected();
  if (!status.ok()) return in_doubt(status);
  Deadline deadline = DeadlineAfterMs(kPgStatementWaitMs);
  if (status = conn_->ExecScript("BEGIN", deadline); !status.ok()) return in_doubt(status);
  // A write, so that the COMMIT below waits for the synchronous standby.
  Result<LogHead> head = ReadHead(
      "UPDATE log_heads SET settled_at = now() WHERE log_id = $1 "
      "RETURNING " +
          std::string(kHeadColumns),
      PgParams().Int32(log_id_), deadline);
  Result<bool> present = head.ok() ? GroupPresent(group, *head, deadline) : head.status();
  if (!present.ok()) {
    if (conn_->Usable()) (void)conn_->ExecScript("ROLLBACK", deadline);
    return in_doubt(present.status());
  }
  status = CommitAcknowledged(DeadlineAfterMs(kPgCommitWaitMs), "the settling commit");
  if (!status.ok()) return in_doubt(status);
  in_doubt_ = false;
  return SettleOutcome{*present, *head};
}

Result<std::vector<StoredEntry>> PgLogStore::ReadEntries(uint64_t from_index, size_t max_count,
                                                         LeafHashCheck check) {
  if (max_count == 0 || max_count > kPgReadEntriesMax) {
    return InvalidArgument("read 1 to " + std::to_string(kPgReadEntriesMax) + " entries at a time")
        .WithField("max_count");
  }
  FL_RETURN_IF_ERROR(EnsureConnected());
  FL_ASSIGN_OR_RETURN(PgResult r,
                      conn_->Exec("SELECT idx, entry, leaf_hash FROM log_entries WHERE log_id = $1 "
                                  "AND idx >= $2 ORDER BY idx LIMIT $3",
                                  PgParams()
                                      .Int32(log_id_)
                                      .Int64(static_cast<int64_t>(from_index))
                                      .Int64(static_cast<int64_t>(max_count)),
                                  DeadlineAfterMs(kPgStatementWaitMs)));
  std::vector<StoredEntry> entries;
  entries.reserve(static_cast<size_t>(r.Rows()));
  for (int row = 0; row < r.Rows(); ++row) {
    const uint64_t index = from_index + static_cast<uint64_t>(row);
    const auto stored_index = static_cast<uint64_t>(r.Int64(row, 0));
    if (stored_index != index) {
      return Corruption("entry " + std::to_string(index) + " of log \"" + options_.origin +
                        "\" is missing from log_entries (the next row is " +
                        std::to_string(stored_index) + ")");
    }
    ByteView bytes = r.Bytes(row, 1);
    Result<Hash> leaf = HashFromBytes(r.Bytes(row, 2));
    if (!leaf.ok() || (check == LeafHashCheck::kRecompute && HashLeaf(bytes) != *leaf)) {
      return Corruption("entry " + std::to_string(index) + " of log \"" + options_.origin +
                        "\": its stored leaf hash is not the hash of its bytes");
    }
    entries.push_back(StoredEntry{index, Bytes(bytes.begin(), bytes.end()), *leaf});
  }
  return entries;
}

Result<std::optional<StoredCheckpoint>> PgLogStore::LatestCheckpoint() {
  return FirstCheckpoint(
      "SELECT size, note FROM log_checkpoints WHERE "
      "log_id = $1 ORDER BY size DESC LIMIT 1",
      PgParams().Int32(log_id_));
}

Result<std::optional<StoredCheckpoint>> PgLogStore::CheckpointAfter(uint64_t size) {
  return FirstCheckpoint(
      "SELECT size, note FROM log_checkpoints WHERE "
      "log_id = $1 AND size > $2 ORDER BY size LIMIT 1",
      PgParams().Int32(log_id_).Int64(static_cast<int64_t>(size)));
}

Result<std::optional<StoredCheckpoint>> PgLogStore::FurthestCheckpointWithin(uint64_t size,
                                                                             uint64_t size_max) {
  return FirstCheckpoint(
      "SELECT size, note FROM log_checkpoints WHERE "
      "log_id = $1 AND size > $2 AND size <= $3 ORDER BY size DESC LIMIT 1",
      PgParams()
          .Int32(log_id_)
          .Int64(static_cast<int64_t>(size))
          .Int64(static_cast<int64_t>(size_max)));
}

Result<std::optional<StoredCheckpoint>> PgLogStore::FirstCheckpoint(std::string_view sql,
                                                                    const PgParams& params) {
  FL_RETURN_IF_ERROR(EnsureConnected());
  FL_ASSIGN_OR_RETURN(PgResult r, conn_->Exec(sql, params, DeadlineAfterMs(kPgStatementWaitMs)));
  if (r.Rows() == 0) return std::optional<StoredCheckpoint>();
  return std::optional<StoredCheckpoint>(
      StoredCheckpoint{static_cast<uint64_t>(r.Int64(0, 0)), std::string(AsChars(r.Bytes(0, 1)))});
}

Status PgLogStore::Listen() {
  if (listening_ || listen_unavailable_) return Status::Ok();
  // channel_ is "fundledger_log_<integer>": a plain identifier, safe to splice in.
  Status status = conn_->ExecScript("LISTEN " + channel_, DeadlineAfterMs(kPgStatementWaitMs));
  if (status.ok()) {
    listening_ = true;
  } else if (conn_->SqlState() == "25006") {  // a standby: no LISTEN during recovery
    listen_unavailable_ = true;
    status = Status::Ok();
  }
  return status;
}

Result<LogHead> PgLogStore::WaitForEntries(uint64_t size_above, int64_t timeout_ms) {
  Deadline deadline = DeadlineAfterMs(timeout_ms);
  for (;;) {
    FL_RETURN_IF_ERROR(EnsureConnected());
    FL_RETURN_IF_ERROR(Listen());  // before reading the head, so no append falls in between
    FL_ASSIGN_OR_RETURN(LogHead head, Head());
    auto now = std::chrono::steady_clock::now();
    if (head.next_index > size_above || now >= deadline) return head;
    Deadline wake = std::min(deadline, now + std::chrono::milliseconds(options_.notify_poll_ms));
    if (!listening_) {
      std::this_thread::sleep_until(wake);
      continue;
    }
    Result<std::vector<std::string>> woken = conn_->WaitForNotifications(wake);
    if (!woken.ok() && conn_->Usable()) return woken.status();  // else reconnect and go on
  }
}

}  // namespace fundledger
