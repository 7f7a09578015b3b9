#include "cluster/pg_connection.h"

#include <poll.h>

#include <cassert>
#include <cerrno>
#include <cstring>

namespace fundledger {
namespace {

// Type OIDs of the binary parameters we send (pg_type.oid, fixed since PostgreSQL 7).
constexpr unsigned int kOidBytea = 17;
constexpr unsigned int kOidInt8 = 20;
constexpr unsigned int kOidInt4 = 23;
constexpr unsigned int kOidText = 25;
constexpr unsigned int kOidByteaArray = 1001;
constexpr int kBinaryFormat = 1;

std::string Field(const PGresult* result, int code) {
  const char* value = PQresultErrorField(result, code);
  return value != nullptr ? value : "";
}

}  // namespace

ByteView PgResult::Bytes(int row, int col) const {
  return {reinterpret_cast<const uint8_t*>(PQgetvalue(result_.get(), row, col)),
          static_cast<size_t>(PQgetlength(result_.get(), row, col))};
}

int64_t PgResult::Int64(int row, int col) const {
  assert(PQgetlength(result_.get(), row, col) == 8 && "a bigint column in binary format");
  return static_cast<int64_t>(GetBigEndian64(Bytes(row, col).data()));
}

int32_t PgResult::Int32(int row, int col) const {
  assert(PQgetlength(result_.get(), row, col) == 4 && "an integer column in binary format");
  return static_cast<int32_t>(GetBigEndian32(Bytes(row, col).data()));
}

bool PgResult::Bool(int row, int col) const {
  assert(PQgetlength(result_.get(), row, col) == 1 && "a boolean column in binary format");
  return Bytes(row, col)[0] != 0;
}

PgParams& PgParams::Add(unsigned int type_oid, std::string value) {
  types_.push_back(type_oid);
  values_.push_back(std::move(value));
  return *this;
}

PgParams& PgParams::Int64(int64_t value) {
  std::string bytes(8, '\0');
  PutBigEndian64(static_cast<uint64_t>(value), reinterpret_cast<uint8_t*>(bytes.data()));
  return Add(kOidInt8, std::move(bytes));
}

PgParams& PgParams::Int32(int32_t value) {
  std::string bytes(4, '\0');
  PutBigEndian32(static_cast<uint32_t>(value), reinterpret_cast<uint8_t*>(bytes.data()));
  return Add(kOidInt4, std::move(bytes));
}

PgParams& PgParams::Bytes(ByteView value) { return Add(kOidBytea, std::string(AsChars(value))); }

PgParams& PgParams::Text(std::string_view value) { return Add(kOidText, std::string(value)); }

PgParams& PgParams::ByteaArray(size_t size, const std::function<ByteView(size_t)>& element) {
  // PostgreSQL's binary array: dimensions, has-nulls flag, element type, then per dimension its
  // length and lower bound, then each element as its length and bytes.
  auto put32 = [](std::string& out, uint32_t v) {
    uint8_t b[4];
    PutBigEndian32(v, b);
    out.append(reinterpret_cast<const char*>(b), 4);
  };
  std::string bytes;
  size_t total = 0;
  for (size_t i = 0; i < size; ++i) total += 4 + element(i).size();
  bytes.reserve(20 + total);
  put32(bytes, 1);
  put32(bytes, 0);
  put32(bytes, kOidBytea);
  put32(bytes, static_cast<uint32_t>(size));
  put32(bytes, 1);
  for (size_t i = 0; i < size; ++i) {
    ByteView e = element(i);
    put32(bytes, static_cast<uint32_t>(e.size()));
    bytes.append(AsChars(e));
  }
  return Add(kOidByteaArray, std::move(bytes));
}

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& dsn, const std::vector<std::pair<std::string, std::string>>& defaults,
    const std::vector<std::pair<std::string, std::string>>& forced) {
  // libpq: with expand_dbname, the DSN given as "dbname" overrides the keywords before it and
  // is overridden by those after it.
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : defaults) keys.push_back(k.c_str()), values.push_back(v.c_str());
  keys.push_back("dbname"), values.push_back(dsn.c_str());
  for (const auto& [k, v] : forced) keys.push_back(k.c_str()), values.push_back(v.c_str());
  keys.push_back(nullptr), values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return IoError("PostgreSQL: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return IoError("cannot connect to PostgreSQL: " + message);
  }
  if (PQsetnonblocking(conn, 1) != 0) {
    PQfinish(conn);
    return IoError("PostgreSQL: cannot make the connection non-blocking");
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  PQsetNoticeReceiver(conn, &PgConnection::ReceiveNotice, connection.get());
  return connection;
}

PgConnection::PgConnection(PGconn* conn) : conn_(conn) {}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::Usable() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

std::string PgConnection::Server() const {
  if (conn_ == nullptr) return "(closed)";
  return std::string(PQhost(conn_)) + ":" + PQport(conn_);
}

void PgConnection::ReceiveNotice(void* self, const PGresult* result) {
  static_cast<PgConnection*>(self)->notices_.push_back(
      {Field(result, PG_DIAG_SEVERITY_NONLOCALIZED), Field(result, PG_DIAG_SQLSTATE),
       Field(result, PG_DIAG_MESSAGE_PRIMARY), Field(result, PG_DIAG_MESSAGE_DETAIL)});
}

Status PgConnection::Fail(std::string what) {
  std::string server = Server();
  if (conn_ != nullptr) {
    std::string detail = PQerrorMessage(conn_);
    while (!detail.empty() && detail.back() == '\n') detail.pop_back();
    if (!detail.empty()) what += ": " + detail;
    PQfinish(conn_);
    conn_ = nullptr;
  }
  return IoError("PostgreSQL at " + server + ": " + what);
}

Status PgConnection::WaitSocket(bool for_write, Deadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Fail("no answer before the deadline; connection closed");
    pollfd fd{PQsocket(conn_), static_cast<short>(POLLIN | (for_write ? POLLOUT : 0)), 0};
    int n = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(std::string("poll: ") + std::strerror(errno));
    if (n == 0) continue;  // the deadline check above ends the wait
    // Input, or a hang-up that reading reports: libpq reads what there is and notices EOF.
    if ((fd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0 && PQconsumeInput(conn_) == 0) {
      return Fail("connection lost");
    }
    return Status::Ok();
  }
}

Status PgConnection::Flush(Deadline deadline) {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0) return Status::Ok();
    if (r < 0) return Fail("connection lost while sending");
    FL_RETURN_IF_ERROR(WaitSocket(/*for_write=*/true, deadline));
  }
}

Result<PgResult> PgConnection::AwaitResult(Deadline deadline) {
  PgResult last(nullptr);
  PgResult error(nullptr);
  for (;;) {
    while (PQisBusy(conn_) != 0) FL_RETURN_IF_ERROR(WaitSocket(/*for_write=*/false, deadline));
    PGresult* raw = PQgetResult(conn_);
    if (raw == nullptr) break;
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_COPY_IN) return PgResult(raw);
    if (status != PGRES_FATAL_ERROR && status != PGRES_BAD_RESPONSE) {
      last = PgResult(raw);
    } else if (error.get() == nullptr) {
      error = PgResult(raw);  // the first error is the cause; later ones follow from it
    } else {
      PQclear(raw);
    }
  }
  if (PQstatus(conn_) != CONNECTION_OK) return Fail("connection lost");
  if (error.get() != nullptr) {
    sqlstate_ = Field(error.get(), PG_DIAG_SQLSTATE);
    return IoError("PostgreSQL at " + Server() + ": " +
                   Field(error.get(), PG_DIAG_MESSAGE_PRIMARY) + " (SQLSTATE " + sqlstate_ + ")");
  }
  return last;
}

Result<PgResult> PgConnection::Exec(std::string_view sql, const PgParams& params,
                                    Deadline deadline) {
  sqlstate_.clear();
  if (!Usable()) return Fail("not connected");
  std::string text(sql);
  std::vector<const char*> values;
  std::vector<int> lengths, formats(params.values_.size(), kBinaryFormat);
  for (const std::string& v : params.values_) {
    values.push_back(v.data());
    lengths.push_back(static_cast<int>(v.size()));
  }
  if (PQsendQueryParams(conn_, text.c_str(), static_cast<int>(values.size()), params.types_.data(),
                        values.data(), lengths.data(), formats.data(), kBinaryFormat) == 0) {
    return Fail("cannot send a statement");
  }
  FL_RETURN_IF_ERROR(Flush(deadline));
  return AwaitResult(deadline);
}

Status PgConnection::ExecScript(std::string_view sql, Deadline deadline) {
  sqlstate_.clear();
  if (!Usable()) return Fail("not connected");
  if (PQsendQuery(conn_, std::string(sql).c_str()) == 0) return Fail("cannot send statements");
  FL_RETURN_IF_ERROR(Flush(deadline));
  return AwaitResult(deadline).status();
}

Status PgConnection::CopyIn(std::string_view copy_sql,
                            const std::function<bool(std::string&)>& fill, Deadline deadline) {
  FL_ASSIGN_OR_RETURN(PgResult started, Exec(copy_sql, deadline));
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) return Fail("COPY did not start");
  std::string chunk;
  bool more = true;
  while (more) {
    chunk.clear();
    more = fill(chunk);
    if (chunk.empty()) continue;
    int r;
    while ((r = PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size()))) == 0) {
      FL_RETURN_IF_ERROR(Flush(deadline));  // libpq's buffer is full: send it first
    }
    if (r < 0) return Fail("connection lost during COPY");
  }
  int r;
  while ((r = PQputCopyEnd(conn_, nullptr)) == 0) FL_RETURN_IF_ERROR(Flush(deadline));
  if (r < 0) return Fail("connection lost ending COPY");
  FL_RETURN_IF_ERROR(Flush(deadline));
  FL_ASSIGN_OR_RETURN(PgResult done, AwaitResult(deadline));
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) return Fail("COPY did not complete");
  return Status::Ok();
}

void PgConnection::DrainNotifications(std::vector<std::string>& out) {
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->extra);
    PQfreemem(n);
  }
}

Result<std::vector<std::string>> PgConnection::WaitForNotifications(Deadline deadline) {
  if (!Usable()) return Fail("not connected");
  std::vector<std::string> out;
  if (PQconsumeInput(conn_) == 0) return Fail("connection lost");
  DrainNotifications(out);
  while (out.empty()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    int n = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail(std::string("poll: ") + std::strerror(errno));
    if (n > 0 && PQconsumeInput(conn_) == 0) return Fail("connection lost");
    DrainNotifications(out);
  }
  return out;
}

}  // namespace fundledger
