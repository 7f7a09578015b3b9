// PgConnection: one libpq connection to PostgreSQL on which every wait is bounded.
//
// The socket is non-blocking and every statement is sent, flushed and awaited with poll()
// against a deadline, so a server that stops answering (killed, paused, partitioned) costs at
// most the caller's deadline, never a hung thread. A missed deadline closes the connection
// (it never sends a cancel: cancelling a COMMIT that waits for a synchronous standby makes the
// server commit locally, so the caller must treat the outcome as unknown either way).
//
// Notices and warnings the server sends (NOTICE, WARNING) are collected per connection:
// PgLogStore clears them before COMMIT and refuses to count a COMMIT that drew one as
// acknowledged (PostgreSQL reports "canceling wait for synchronous replication ... committed
// locally" as a WARNING on a COMMIT that otherwise succeeds). Notifications (LISTEN/NOTIFY)
// are collected too, for followers waiting on new entries.
//
// Parameters and results travel in PostgreSQL's binary format: bytea and hashes as raw bytes,
// bigint as 8 big-endian bytes, with no text escaping on either side.
//
//   FL_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(dsn, {{"connect_timeout", "2"}}, {}));
//   FL_ASSIGN_OR_RETURN(PgResult r, conn->Exec("SELECT $1::bigint", PgParams().Int64(7),
//                                              DeadlineAfterMs(5'000)));
//   int64_t seven = r.Int64(0, 0);
//
// One thread at a time per connection.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/status.h"

namespace fundledger {

using Deadline = std::chrono::steady_clock::time_point;
inline Deadline DeadlineAfterMs(int64_t ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
}

// A PGresult, freed when it goes away; accessors for binary-format columns.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  PGresult* get() const { return result_.get(); }
  int Rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  ByteView Bytes(int row, int col) const;  // bytea, text
  int64_t Int64(int row, int col) const;   // bigint
  int32_t Int32(int row, int col) const;   // integer
  bool Bool(int row, int col) const;       // boolean

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// Binary-format statement parameters: $1, $2, ... in the order added. Values are copied.
class PgParams {
 public:
  PgParams& Int64(int64_t value);
  PgParams& Int32(int32_t value);
  PgParams& Bytes(ByteView value);  // bytea
  PgParams& Text(std::string_view value);
  // bytea[] of one dimension, no nulls; `size` elements, the i-th `element(i)`.
  PgParams& ByteaArray(size_t size, const std::function<ByteView(size_t)>& element);

 private:
  friend class PgConnection;
  PgParams& Add(unsigned int type_oid, std::string value);
  std::vector<unsigned int> types_;
  std::vector<std::string> values_;
};

// A NOTICE or WARNING the server sent.
struct PgNotice {
  std::string severity;  // "WARNING", "NOTICE", ... (not localised)
  std::string sqlstate;  // "01000", ...
  std::string message;
  std::string detail;
};

class PgConnection {
 public:
  // `defaults` are libpq keywords the DSN may override; `forced` override the DSN. The call
  // blocks for at most connect_timeout per host the DSN names (libpq's own bound).
  static Result<std::unique_ptr<PgConnection>> Connect(
      const std::string& dsn, const std::vector<std::pair<std::string, std::string>>& defaults,
      const std::vector<std::pair<std::string, std::string>>& forced);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // False once the connection broke or a deadline closed it; it never recovers.
  bool Usable() const;
  // "host:port" of the server, for messages.
  std::string Server() const;

  // One statement, waiting up to `deadline` for its result (binary format). A server error is
  // an IoError carrying the server's message and SQLSTATE (SqlState()).
  Result<PgResult> Exec(std::string_view sql, const PgParams& params, Deadline deadline);
  Result<PgResult> Exec(std::string_view sql, Deadline deadline) {
    return Exec(sql, PgParams(), deadline);
  }
  // Several statements separated by ';', without parameters or results (DDL, SET).
  Status ExecScript(std::string_view sql, Deadline deadline);
  // COPY ... FROM STDIN: `fill` appends the next chunk of COPY data to its argument and
  // returns false when there is no more.
  Status CopyIn(std::string_view copy_sql, const std::function<bool(std::string&)>& fill,
                Deadline deadline);

  std::vector<PgNotice> TakeNotices() { return std::exchange(notices_, {}); }
  // Waits until a notification arrives or the deadline passes; returns the payloads of all
  // notifications received so far (empty on timeout).
  Result<std::vector<std::string>> WaitForNotifications(Deadline deadline);

  // The SQLSTATE of the last server error ("" when the connection, not the server, failed).
  const std::string& SqlState() const { return sqlstate_; }

 private:
  explicit PgConnection(PGconn* conn);
  static void ReceiveNotice(void* self, const PGresult* result);
  Status Fail(std::string what);  // closes the connection, returns IoError(what)
  Status WaitSocket(bool for_write, Deadline deadline);
  Status Flush(Deadline deadline);
  Result<PgResult> AwaitResult(Deadline deadline);  // all results; the last one, or the error
  void DrainNotifications(std::vector<std::string>& out);

  PGconn* conn_;
  std::vector<PgNotice> notices_;
  std::string sqlstate_;
};

}  // namespace fundledger
