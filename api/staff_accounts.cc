#include "api/staff_accounts.h"

#include <argon2.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <semaphore>

#include "api/actor_name.h"
#include "crypto/key_file.h"
#include "crypto/mutex.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr std::string_view kWhat = "the account table";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// At most kArgon2ConcurrentMax computations at once, each kArgon2MemoryKib: a burst of log-ins
// waits its turn instead of asking the allocator for an unbounded amount at once.
std::counting_semaphore<kArgon2ConcurrentMax>& Argon2Slots() {
  static std::counting_semaphore<kArgon2ConcurrentMax> slots(kArgon2ConcurrentMax);
  return slots;
}

class Argon2Slot {
 public:
  Argon2Slot() : held_(Argon2Slots().try_acquire_for(std::chrono::milliseconds(kArgon2WaitMs))) {}
  ~Argon2Slot() {
    if (held_) Argon2Slots().release();
  }
  Argon2Slot(const Argon2Slot&) = delete;
  Argon2Slot& operator=(const Argon2Slot&) = delete;
  bool held() const { return held_; }

 private:
  bool held_;
};

Status Busy() {
  return Overloaded("too many passwords are being checked at once; nothing was counted: try again");
}

// An argon2 failure other than a wrong password: the machine's (memory, threads: try again) or
// the stored hash's (it cannot be read). Never a wrong password.
Status Argon2Failure(int rc) {
  std::string what = std::string("argon2id: ") + argon2_error_message(rc);
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR || rc == ARGON2_THREAD_FAIL)
    return Overloaded("the password could not be checked now (" + what +
                      "); nothing was counted: try again");
  return Corruption("the account's stored password hash cannot be checked (" + what + ")");
}

Result<std::string> HashPassword(const std::string& password) {
  if (password.size() < kPasswordBytesMin || password.size() > kPasswordBytesMax) {
    return InvalidArgument("a password has " + std::to_string(kPasswordBytesMin) + " to " +
                           std::to_string(kPasswordBytesMax) + " bytes")
        .WithField("password");
  }
  uint8_t salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return Internal("no randomness for a salt");
  std::string encoded(argon2_encodedlen(kArgon2Passes, kArgon2MemoryKib, kArgon2Lanes, kSaltBytes,
                                        kHashBytes, Argon2_id),
                      '\0');
  Argon2Slot slot;
  if (!slot.held()) return Busy();
  int rc = argon2id_hash_encoded(kArgon2Passes, kArgon2MemoryKib, kArgon2Lanes, password.data(),
                                 password.size(), salt, sizeof salt, kHashBytes, encoded.data(),
                                 encoded.size());
  if (rc != ARGON2_OK) return Argon2Failure(rc);
  encoded.resize(encoded.find('\0'));
  return encoded;
}

}  // namespace

Result<bool> PasswordMatches(const std::string& encoded, const std::string& password) {
  Argon2Slot slot;
  if (!slot.held()) return Busy();
  int rc = argon2id_verify(encoded.c_str(), password.data(), password.size());
  if (rc == ARGON2_OK) return true;
  if (rc == ARGON2_VERIFY_MISMATCH) return false;
  return Argon2Failure(rc);
}

namespace {

// A hash to verify against when the name is unknown, so that the answer takes as long; made at
// the first need (a failure to make it is that log-in's error, and the next one tries again).
struct Decoy {
  Mutex mu;
  std::string hash FL_GUARDED_BY(mu);
};

Result<std::string> DecoyHash() {
  static Decoy decoy;
  {
    MutexLock lock(decoy.mu);
    if (!decoy.hash.empty()) return decoy.hash;
  }
  FL_ASSIGN_OR_RETURN(std::string made, HashPassword("decoy-password-never-matches"));
  MutexLock lock(decoy.mu);
  if (decoy.hash.empty()) decoy.hash = std::move(made);
  return decoy.hash;
}

Result<std::vector<StaffAccount>> ParseTable(std::string_view text) {
  std::vector<StaffAccount> accounts;
  FL_RETURN_IF_ERROR(ForEachTableLine(text, [&](std::string_view line, uint64_t line_no) {
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    if (o == nullptr)
      return Corruption("the account table: line is not a JSON object").WithLine(line_no);
    auto str = [&](const char* k) {
      const json::value* f = o->if_contains(k);
      return f && f->is_string() ? std::string(f->get_string()) : std::string();
    };
    auto num = [&](const char* k) {
      const json::value* f = o->if_contains(k);
      return f && f->is_int64() ? f->get_int64() : int64_t{0};
    };
    const json::value* disabled = o->if_contains("disabled");
    accounts.push_back({str("name"), str("role"), str("org"), str("hash"),
                        disabled && disabled->is_bool() && disabled->get_bool(),
                        static_cast<int>(num("failures")), num("locked_until_ms"),
                        num("created_ms"), str("enrolling_key"), num("enrolling_key_ms")});
    return Status::Ok();
  }));
  return accounts;
}

std::string FormatTable(const std::vector<StaffAccount>& accounts) {
  std::string text;
  for (const StaffAccount& a : accounts) {
    json::object o{{"name", a.name},
                   {"role", a.role},
                   {"org", a.org},
                   {"hash", a.hash},
                   {"disabled", a.disabled},
                   {"failures", a.failures},
                   {"locked_until_ms", a.locked_until_ms},
                   {"created_ms", a.created_ms}};
    if (!a.enrolling_key.empty()) {
      o["enrolling_key"] = a.enrolling_key;
      o["enrolling_key_ms"] = a.enrolling_key_ms;
    }
    text += json::serialize(o) + "\n";
  }
  return text;
}

}  // namespace

StaffAccounts::StaffAccounts(const std::string& data_dir)
    : file_(data_dir + "/accounts", std::string(kWhat)) {}

Result<std::vector<StaffAccount>> StaffAccounts::List() const {
  struct stat st;
  if (::stat(file_.path().c_str(), &st) != 0) return std::vector<StaffAccount>{};
  FL_RETURN_IF_ERROR(CheckSecretFile(st, file_.path(), kWhat));
  FL_ASSIGN_OR_RETURN(std::string text, file_.Read());
  return ParseTable(text);
}

Status StaffAccounts::Change(const std::string& name,
                             const std::function<Status(StaffAccount&)>& change) {
  struct stat st;
  if (::stat(file_.path().c_str(), &st) == 0)
    FL_RETURN_IF_ERROR(CheckSecretFile(st, file_.path(), kWhat));
  return file_.Update([&](std::string_view now) -> Result<std::string> {
    FL_ASSIGN_OR_RETURN(std::vector<StaffAccount> accounts, ParseTable(now));
    auto it = std::find_if(accounts.begin(), accounts.end(),
                           [&](const StaffAccount& a) { return a.name == name; });
    if (it == accounts.end() && !name.empty())
      return NotFound("no account '" + name + "'").WithField("name");
    if (it == accounts.end()) {  // an empty name: a new account, made by `change`
      accounts.emplace_back();
      it = accounts.end() - 1;
    }
    FL_RETURN_IF_ERROR(change(*it));
    return FormatTable(accounts);
  });
}

Status StaffAccounts::Create(const std::string& name_text, const std::string& role,
                             const std::string& org, const std::string& password) {
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActor(name_text, "name"));
  FL_ASSIGN_OR_RETURN(fb::Role r, RoleFromName(role));
  if (r == fb::Role::system || r == fb::Role::reader)
    return InvalidArgument("staff accounts are admin, maker, checker, auditor or charity")
        .WithField("role");
  if ((r == fb::Role::charity) != !org.empty())
    return InvalidArgument("a charity account, and only one, names its org").WithField("org");
  FL_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  FL_ASSIGN_OR_RETURN(std::vector<StaffAccount> existing, List());
  for (const StaffAccount& a : existing) {
    if (a.name == name) return Conflict("an account '" + name + "' exists").WithField("name");
  }
  return Change("", [&](StaffAccount& a) {
    a = StaffAccount{name, std::string(RoleName(r)), org, hash, false, 0, 0, NowMs(), "", 0};
    return Status::Ok();
  });
}

Status StaffAccounts::ResetPassword(const std::string& name_text, const std::string& password) {
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActor(name_text, "name"));
  FL_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  return Change(name, [&](StaffAccount& a) {
    a.hash = hash;
    a.failures = 0;
    a.locked_until_ms = 0;
    return Status::Ok();
  });
}

Status StaffAccounts::SetDisabled(const std::string& name_text, bool disabled) {
  FL_ASSIGN_OR_RETURN(std::string name, NormalizeActor(name_text, "name"));
  return Change(name, [&](StaffAccount& a) {
    a.disabled = disabled;
    return Status::Ok();
  });
}

Status StaffAccounts::SetEnrollingKey(const std::string& name, const std::string& public_key_base64,
                                      int64_t now_ms) {
  return Change(name, [&](StaffAccount& a) {
    a.enrolling_key = public_key_base64;
    a.enrolling_key_ms = now_ms;
    return Status::Ok();
  });
}

bool StaffAccounts::Active(const std::string& name) const {
  Result<std::vector<StaffAccount>> all = List();
  if (!all.ok()) return false;
  return std::any_of(all->begin(), all->end(),
                     [&](const StaffAccount& a) { return a.name == name && !a.disabled; });
}

Result<Principal> StaffAccounts::LogIn(const std::string& name_text, const std::string& password,
                                       int64_t now_ms) {
  Status refused(StatusCode::kUnauthenticated, "wrong name or password");
  Result<std::string> name = NormalizeActor(name_text, "name");
  FL_ASSIGN_OR_RETURN(std::vector<StaffAccount> all, List());
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const StaffAccount& a) { return name.ok() && a.name == *name; });
  if (it == all.end()) {
    FL_ASSIGN_OR_RETURN(std::string decoy_hash, DecoyHash());
    Result<bool> decoy = PasswordMatches(decoy_hash, password);
    if (!decoy.ok()) return decoy.status();  // as a known name's failure would answer
    return refused;
  }
  if (it->locked_until_ms > now_ms) {
    return Status(StatusCode::kUnauthenticated,
                  "the account is locked after " + std::to_string(kLoginFailuresMax) +
                      " wrong passwords; try again in " +
                      std::to_string((it->locked_until_ms - now_ms + 59'999) / 60'000) +
                      " minutes or ask an admin to reset it");
  }
  // A check that failed is not a wrong password: it neither refuses nor counts toward lockout.
  FL_ASSIGN_OR_RETURN(bool right, PasswordMatches(it->hash, password));
  FL_RETURN_IF_ERROR(Change(*name, [&](StaffAccount& a) {
    a.failures = right ? 0 : a.failures + 1;
    if (a.failures >= kLoginFailuresMax) {
      a.locked_until_ms = now_ms + kLockoutMs;
      a.failures = 0;
    }
    return Status::Ok();
  }));
  if (!right) return refused;
  if (it->disabled) return Status(StatusCode::kUnauthenticated, "the account is disabled");
  FL_ASSIGN_OR_RETURN(fb::Role role, RoleFromName(it->role));
  return Principal{"session", it->name, role, it->org};
}

}  // namespace fundledger
