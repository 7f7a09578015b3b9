// PgLogStore: one log of record in PostgreSQL (schema in pg_log_schema.h): a fenced writer
// appends commit groups as single transactions; followers read entries and checkpoints in
// order and wait for new ones.
//
// Acknowledgement. AppendGroup returns ok only when its commit returned with no NOTICE or
// WARNING: a small group's one statement (its own transaction), a large group's COMMIT. The cluster
// runs synchronous_commit = on with a synchronous standby, so an ok group is on the disks of two
// machines. A COMMIT that draws a warning (PostgreSQL's "canceling wait for synchronous replication
// ... committed locally"), loses its connection, or outlasts kPgCommitWaitMs is in doubt: the
// error's rule is kCommitInDoubt, the store refuses further appends, and SettleInDoubt(same group)
// decides. It runs a fresh synchronous commit on the current primary (WAL is ordered, so its
// success means all before it has reached a standby) and reports whether the group is there. A
// commit is never cancelled and no statement_timeout applies to it.
//
// Fencing. AcquireWriter takes a session advisory lock on the log and bumps the head's writer
// epoch; every AppendGroup updates the head row WHERE next_index, last_leaf_hash and
// writer_epoch equal what the writer expects, in the group's own transaction. A writer that
// was superseded updates no row, appends nothing, and gets kWriterFenced. After a reconnect
// (a failover) a writer re-takes the lock before appending; if another session holds it, the
// writer is fenced. The lock keeps two live writers apart; the epoch makes a stale one
// harmless even when the lock was lost with a primary.
//
// Failover. The DSN names every PostgreSQL host (libpq multi-host); a writable store forces
// target_session_attrs=read-write, so a reconnect finds the new primary. Each operation first
// reconnects if the connection broke, retrying for at most reconnect_wait_ms. A large group
// whose connection breaks before COMMIT (nothing appended) tries once more on a new one; a
// small group whose statement loses its connection is settled on a new one, and sent once
// more if absent; any
// other operation whose connection breaks midway fails, and the next call reconnects.
//
//   auto store = *PgLogStore::Connect({.dsn = dsn, .origin = "city.example/ledger"});
//   WriterLease lease = *store->AcquireWriter("node-a");
//   Status s = store->AppendGroup({lease.epoch, lease.head.next_index,
//                                  lease.head.last_leaf_hash, entries, note});
//
// A PgLogStore owns one connection and is used by one thread at a time; a writer and a
// follower in one process use two stores.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/pg_connection.h"
#include "crypto/sha256.h"

namespace fundledger {

// Limits.
inline constexpr size_t kPgGroupEntriesMax = 65'536;         // entries in one commit group
inline constexpr size_t kPgEntryBytesMax = 65'535;           // ledger/entry_codec.h kEntryBytesMax
inline constexpr size_t kPgGroupBytesMax = size_t{1} << 30;  // entry bytes in one group
// A group of at most this many entries goes in one statement (one round trip); a larger one in
// BEGIN, the compare-and-set, COPY and COMMIT (COPY is the faster for many rows).
inline constexpr size_t kPgOneStatementEntriesMax = 256;
// Entries in one ReadEntries: its result is held in memory whole (<= 256 MiB of entry bytes).
inline constexpr size_t kPgReadEntriesMax = 4'096;
inline constexpr size_t kPgNodeNameBytesMax = 128;
// Waits (ms). libpq's connect_timeout bounds each host's connection attempt (whole seconds).
inline constexpr int64_t kPgConnectTimeoutMs = 2'000;
inline constexpr int64_t kPgReconnectWaitMs = 60'000;  // a Patroni failover measured 24 s
inline constexpr int64_t kPgReconnectIntervalMs = 250;
inline constexpr int64_t kPgStatementWaitMs = 30'000;
inline constexpr int64_t kPgGroupWaitMs = 300'000;         // a group's statements before COMMIT
inline constexpr int64_t kPgCommitWaitMs = 300'000;        // then: in doubt, never cancelled
inline constexpr int64_t kPgWriterLockWaitMs = 5'000;      // for another session's writer lock
inline constexpr int64_t kPgIdleInTransactionMs = 60'000;  // server ends a writer stalled mid-group
inline constexpr int64_t kPgNotifyPollMs = 1'000;          // re-read the head while waiting
// The server ends a writer's session idle this long (idle_session_timeout, armed by KeepLease):
// a writer that stopped running (SIGSTOP, a hung host) frees the writer lock for another node.
inline constexpr int64_t kPgWriterSessionIdleMs = 10'000;
inline constexpr int64_t kPgKeepLeaseReconnectMs = 2'000;  // KeepLease's wait for a server

// Status rules (Status::rule()) of the errors a writer must tell apart.
inline constexpr std::string_view kWriterFenced = "writer_fenced";       // step down
inline constexpr std::string_view kHeadMoved = "head_moved";             // expected head wrong
inline constexpr std::string_view kCommitInDoubt = "commit_in_doubt";    // SettleInDoubt
inline constexpr std::string_view kNotCommitted = "not_committed";       // nothing appended
inline constexpr std::string_view kWriterLockHeld = "writer_lock_held";  // another live writer

struct PgLogOptions {
  // libpq connection string. A cluster's: every host, e.g. "host=h1,h2,h3 port=p1,p2,p3
  // dbname=fundledger user=fundledger password=... target_session_attrs=read-write".
  std::string dsn;
  std::string origin;  // the log this store reads and writes
  // A follower: connects to any server (a standby too), never creates or writes.
  bool read_only = false;
  int64_t reconnect_wait_ms = kPgReconnectWaitMs;
  int64_t notify_poll_ms = kPgNotifyPollMs;
};

struct LogHead {
  uint64_t next_index = 0;
  Hash last_leaf_hash{};
  uint64_t writer_epoch = 0;
  std::string writer_node;
};

struct WriterLease {
  uint64_t epoch = 0;
  LogHead head;  // where the writer continues
};

// One entry of a group: the bytes as hashed (viewed, not copied) and their leaf hash.
struct GroupEntry {
  ByteView bytes;
  Hash leaf_hash{};
};

struct AppendGroupRequest {
  uint64_t epoch = 0;        // the writer's lease
  uint64_t first_index = 0;  // the head's next_index the group expects
  Hash prev_leaf_hash{};     // the head's last_leaf_hash the group expects
  std::span<const GroupEntry> entries;
  std::string checkpoint_note;  // signed checkpoint of size first_index + entries; "" if none
};

struct StoredEntry {
  uint64_t index = 0;
  Bytes bytes;
  Hash leaf_hash{};
};

// How ReadEntries checks each row's stored leaf hash against its bytes: it recomputes it
// (kRecompute), or the caller compares the stored one with the hash it computes of the bytes
// anyway (kCallerCompares: a follower's VerifyChain hashes every entry it checks, and
// LogFollower names a row whose two columns disagree at its index, as ReadEntries would).
enum class LeafHashCheck { kRecompute, kCallerCompares };

struct StoredCheckpoint {
  uint64_t size = 0;
  std::string note;
};

struct SettleOutcome {
  bool committed = false;  // the group is in the log, and now on a standby too
  LogHead head;
};

class PgLogStore {
 public:
  // Connects (bounded by reconnect_wait_ms), checks or creates the schema and the log's head.
  static Result<std::unique_ptr<PgLogStore>> Connect(PgLogOptions options);

  // Makes this store the log's writer: the session lock (waiting at most kPgWriterLockWaitMs for
  // another session's, or ending that session first when `evict_holder`), then the epoch bump.
  Result<WriterLease> AcquireWriter(std::string_view node, bool evict_holder = false);
  // As AcquireWriter, without waiting: kWriterLockHeld at once while another session holds it.
  Result<WriterLease> TryAcquireWriter(std::string_view node);

  // For the writer, between groups and well within kPgWriterSessionIdleMs (a node calls it
  // every 0.5 s): checks that its session still holds the lease (after a reconnect it re-takes
  // the lock; fenced if another session holds it or the epoch moved) and arms
  // idle_session_timeout = kPgWriterSessionIdleMs on it, so the server ends the session, and
  // frees the lock, once the writer stops calling (it was paused).
  // Errors: kWriterFenced (step down), or an I/O error (no server: the next group decides).
  Status KeepLease();

  // One group in one transaction; ok means acknowledged (see the top of this file). Errors:
  // kWriterFenced, kHeadMoved, kNotCommitted (nothing appended; may be retried), kCommitInDoubt.
  // A group may have no entries when it carries a checkpoint.
  Status AppendGroup(const AppendGroupRequest& group);
  // After kCommitInDoubt: whether `group` (the same request) is in the log, settled by a
  // synchronous commit on the current primary. Still in doubt: kCommitInDoubt again.
  Result<SettleOutcome> SettleInDoubt(const AppendGroupRequest& group);

  // Entries from `from_index` in order, at most `max_count` (<= kPgReadEntriesMax); fewer at the
  // end of the log. A row whose leaf hash is not its bytes' is Corruption naming its index
  // (with kCallerCompares, the caller's to find: see LeafHashCheck).
  Result<std::vector<StoredEntry>> ReadEntries(uint64_t from_index, size_t max_count,
                                               LeafHashCheck check = LeafHashCheck::kRecompute);
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint();
  // The smallest checkpoint of a size above `size`, if any.
  Result<std::optional<StoredCheckpoint>> CheckpointAfter(uint64_t size);
  // The largest checkpoint of a size in (size, size_max], if any.
  Result<std::optional<StoredCheckpoint>> FurthestCheckpointWithin(uint64_t size,
                                                                   uint64_t size_max);
  Result<LogHead> Head();
  // Returns the head once next_index > size_above, or when timeout_ms passes (the head then
  // is what it was). Wakes on the append's NOTIFY; re-reads the head every notify_poll_ms in
  // case a notification is lost (a failover), or only that on a standby (no LISTEN there).
  Result<LogHead> WaitForEntries(uint64_t size_above, int64_t timeout_ms);

  std::string Server() const { return conn_ ? conn_->Server() : "(not connected)"; }
  uint64_t connections_made() const { return connections_made_; }

 private:
  explicit PgLogStore(PgLogOptions options) : options_(std::move(options)) {}
  Status EnsureConnected() { return EnsureConnected(options_.reconnect_wait_ms); }
  Status EnsureConnected(int64_t wait_ms);
  Result<WriterLease> Acquire(std::string_view node, bool evict_holder, bool wait);
  Result<bool> TryWriterLock();
  Status WaitForWriterLock(bool evict_holder);
  Status CheckGroup(const AppendGroupRequest& group) const;
  // The first row (size, note) of a query of log_checkpoints, if any.
  Result<std::optional<StoredCheckpoint>> FirstCheckpoint(std::string_view sql,
                                                          const PgParams& params);
  Status CheckCheckpoint(const AppendGroupRequest& group) const;
  // Connects, re-takes the writer lock after a reconnect, and writes the transaction up to
  // COMMIT.
  Status StartGroup(const AppendGroupRequest& group, const std::string& what);
  // Connected, with the writer lock re-taken after a reconnect; kWriterFenced if another
  // session holds it (whoever holds it took over).
  Status ConnectedWithLock(const std::string& what);
  Status WriteGroup(const AppendGroupRequest& group);
  Status CopyEntries(const AppendGroupRequest& group, Deadline deadline);
  Status FencedOrMoved(const AppendGroupRequest& group, Deadline deadline);
  // A group of at most kPgOneStatementEntriesMax entries as one statement, its own transaction.
  // A connection lost under it is settled at once, and an absent group sent once more.
  Status AppendInOneStatement(const AppendGroupRequest& group, const std::string& what);
  Status SendOneStatement(const AppendGroupRequest& group, const std::string& what);
  // COMMIT, ok only when acknowledged; otherwise kCommitInDoubt or kNotCommitted.
  Status CommitAcknowledged(Deadline deadline, const std::string& what);
  // A commit that returned an error: in doubt if the connection is gone, else not committed.
  Status FailedCommit(const Status& failed, const std::string& what);
  // After a commit returned: in doubt if it drew any notice (PostgreSQL's "committed locally"
  // warning when the wait for the standby was cancelled), else acknowledged.
  Status Acknowledged(const std::string& what, std::string_view commit);
  Result<bool> GroupPresent(const AppendGroupRequest& group, const LogHead& head,
                            Deadline deadline);
  Result<LogHead> ReadHead(std::string_view sql, const PgParams& params, Deadline deadline);
  Status Listen();
  Status Fenced(const std::string& why);

  PgLogOptions options_;
  std::unique_ptr<PgConnection> conn_;
  int32_t log_id_ = 0;
  std::string channel_;                  // NOTIFY channel of this log
  std::optional<uint64_t> lease_epoch_;  // set by AcquireWriter
  bool lock_held_ = false;               // this connection holds the writer lock
  bool listening_ = false;               // this connection LISTENs on channel_
  bool listen_unavailable_ = false;      // a standby: poll only
  bool in_doubt_ = false;
  uint64_t connections_made_ = 0;
};

}  // namespace fundledger
