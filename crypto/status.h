// Status and Result<T>: how every fundledger module reports an error.
//
// Errors are values. A Status carries a stable code (which maps onto an HTTP status for the
// API), a message a finance clerk or auditor can act on, and, where the error is about one
// part of the input, the field and the 1-based line (or entry index) it concerns.
// Exceptions never cross a module boundary; code that calls a throwing library converts
// at the call site.
//
//   Result<Checkpoint> cp = ParseCheckpoint(text);
//   if (!cp.ok()) return cp.status();
//   use(cp->size);
//
// This header sits in crypto/ because crypto is the bottom of the dependency graph
// (crypto <- ledger <- projections <- replay <- api) and every layer needs it.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fundledger {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,   // 400: malformed input
  kUnauthenticated,   // 401
  kPermissionDenied,  // 403
  kNotFound,          // 404
  kConflict,          // 409: idempotency key reused with another body, state conflict
  kTooLarge,          // 413: a limit on size was exceeded
  kRuleViolation,     // 422: well-formed, but a ledger rule forbids it
  kOverloaded,        // 503: queue full, try again later
  kCorruption,        // 500: stored or supplied data fails an integrity check
  kIoError,           // 500: the disk or the OS failed
  kInternal,          // 500: a bug
};

std::string_view StatusCodeName(StatusCode code);  // "invalid_argument", ...
int HttpStatusFor(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  // An ok Status is a null pointer: returning and checking one costs what an integer does.
  Status(const Status& other);
  Status(Status&& other) noexcept : rep_(std::exchange(other.rep_, nullptr)) {}
  Status& operator=(const Status& other);
  Status& operator=(Status&& other) noexcept {
    std::swap(rep_, other.rep_);
    return *this;
  }
  ~Status();

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr || code() == StatusCode::kOk; }
  StatusCode code() const;
  const std::string& message() const;
  const std::string& field() const;
  // 1-based line of a multi-line input, or 0 when the error is not about one line.
  uint64_t line() const;

  Status& WithField(std::string field);
  Status& WithLine(uint64_t line);
  // A stable machine-readable reason ("duplicate_payment", "insufficient_funds", ...), for
  // rule violations; the API reports it as the error code.
  const std::string& rule() const;
  Status& WithRule(std::string rule);
  // Every problem found, when one input had several (e.g. each rejected line of a roll).
  const std::vector<Status>& details() const;
  Status& WithDetails(std::vector<Status> details);

  // "<code>: <message>[ (field F)][ (line N)]", for logs and the CLI.
  std::string ToString() const;

 private:
  struct Rep;
  // Out of line (status.cc): the destructor of every ok Status, inlined everywhere, is one test.
  static void Destroy(Rep* rep);
  static const std::string& Empty();
  Rep& Mutable();

  Rep* rep_ = nullptr;  // null when ok
};

struct Status::Rep {
  StatusCode code = StatusCode::kOk;
  std::string message;
  std::string field;
  uint64_t line = 0;
  std::string rule;
  std::vector<Status> details;
};

inline Status::Status(StatusCode code, std::string message)
    : rep_(code == StatusCode::kOk && message.empty()
               ? nullptr
               : new Rep{code, std::move(message), {}, 0, {}, {}}) {}
inline Status::Status(const Status& other) : rep_(other.rep_ ? new Rep(*other.rep_) : nullptr) {}
inline Status& Status::operator=(const Status& other) {
  if (this != &other) {
    Status copy(other);
    std::swap(rep_, copy.rep_);
  }
  return *this;
}
inline Status::~Status() {
  if (rep_ != nullptr) [[unlikely]]
    Destroy(rep_);
}

inline StatusCode Status::code() const { return rep_ ? rep_->code : StatusCode::kOk; }
inline const std::string& Status::message() const { return rep_ ? rep_->message : Empty(); }
inline const std::string& Status::field() const { return rep_ ? rep_->field : Empty(); }
inline uint64_t Status::line() const { return rep_ ? rep_->line : 0; }
inline const std::string& Status::rule() const { return rep_ ? rep_->rule : Empty(); }
inline Status& Status::WithField(std::string field) {
  Mutable().field = std::move(field);
  return *this;
}
inline Status& Status::WithLine(uint64_t line) {
  Mutable().line = line;
  return *this;
}
inline Status& Status::WithRule(std::string rule) {
  Mutable().rule = std::move(rule);
  return *this;
}

inline const std::vector<Status>& Status::details() const {
  static const std::vector<Status> none;
  return rep_ ? rep_->details : none;
}
inline Status& Status::WithDetails(std::vector<Status> details) {
  Mutable().details = std::move(details);
  return *this;
}
inline const std::string& Status::Empty() {
  static const std::string empty;
  return empty;
}
inline Status::Rep& Status::Mutable() {
  if (rep_ == nullptr) rep_ = new Rep;
  return *rep_;
}

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
inline Status RuleViolation(std::string m) { return {StatusCode::kRuleViolation, std::move(m)}; }
inline Status RuleViolation(std::string rule, std::string m) {
  return Status(StatusCode::kRuleViolation, std::move(m)).WithRule(std::move(rule));
}
inline Status Overloaded(std::string m) { return {StatusCode::kOverloaded, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace fundledger

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define FL_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::fundledger::Status fl_status_ = (expr); \
    if (!fl_status_.ok()) return fl_status_;  \
  } while (0)

#define FL_CONCAT_INNER(a, b) a##b
#define FL_CONCAT(a, b) FL_CONCAT_INNER(a, b)
// Declares `lhs` from a Result<T> expression, or returns its Status.
#define FL_ASSIGN_OR_RETURN(lhs, expr) \
  FL_ASSIGN_OR_RETURN_IMPL(FL_CONCAT(fl_result_, __LINE__), lhs, expr)
#define FL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
