#include "api/tokens.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>

#include "api/actor_name.h"
#include "api/random_secret.h"
#include "crypto/key_file.h"
#include "crypto/sha256.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr std::string_view kTokenPrefix = "fl_";
constexpr size_t kTokenRandomBytes = 32;
constexpr size_t kTokensMax = 10'000;
constexpr std::string_view kWhat = "the token table";

std::string TokenHash(std::string_view token) { return HashHex(Sha256::Digest(AsBytes(token))); }

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// One line of the table. An actor that does not normalise is kept as written: such a token
// authenticates no one (Authenticate says why) until it is re-issued.
Result<TokenRecord> ParseRecord(std::string_view line, uint64_t line_no, const std::string& path) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr)
    return Corruption("token table " + path + " line " + std::to_string(line_no) + " is not JSON");
  auto str = [&](const char* k) -> std::string {
    const json::value* f = o->if_contains(k);
    const json::string* s = f != nullptr ? f->if_string() : nullptr;
    return s != nullptr ? std::string(*s) : std::string();
  };
  TokenRecord r{str("id"), str("hash"), str("actor"), str("role"), str("org")};
  if (Result<std::string> actor = NormalizeActor(r.actor); actor.ok()) r.actor = *actor;
  if (const json::value* c = o->if_contains("created_ms"); c != nullptr && c->if_int64())
    r.created_ms = *c->if_int64();
  if (const json::value* rv = o->if_contains("revoked"); rv != nullptr && rv->is_bool())
    r.revoked = rv->as_bool();
  return r;
}

Result<std::vector<TokenRecord>> ParseTable(std::string_view text, const std::string& path) {
  std::vector<TokenRecord> records;
  FL_RETURN_IF_ERROR(ForEachTableLine(text, [&](std::string_view line, uint64_t line_no) {
    FL_ASSIGN_OR_RETURN(TokenRecord r, ParseRecord(line, line_no, path));
    records.push_back(std::move(r));
    return Status::Ok();
  }));
  return records;
}

std::string FormatTable(const std::vector<TokenRecord>& records) {
  std::string text;
  for (const TokenRecord& r : records) {
    json::object o;
    o["id"] = r.id;
    o["hash"] = r.hash;
    o["actor"] = r.actor;
    o["role"] = r.role;
    o["org"] = r.org;
    o["created_ms"] = r.created_ms;
    o["revoked"] = r.revoked;
    text += json::serialize(o) + "\n";
  }
  return text;
}

}  // namespace

TokenStore::TokenStore(const std::string& data_dir)
    : file_(data_dir + "/tokens", std::string(kWhat)) {}

Status TokenStore::Load() {
  struct stat st;
  if (::stat(file_.path().c_str(), &st) != 0) {
    records_.clear();
    loaded_ = FileVersion{0, 0, 0, 0};
    return Status::Ok();
  }
  FileVersion seen{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                   static_cast<uint64_t>(st.st_size),
                   int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (seen == loaded_) return Status::Ok();
  FL_RETURN_IF_ERROR(CheckSecretFile(st, file_.path(), kWhat));
  FL_ASSIGN_OR_RETURN(std::string text, file_.Read());
  FL_ASSIGN_OR_RETURN(records_, ParseTable(text, file_.path()));
  loaded_ = seen;  // a version newer than `seen` read here is read again next time: harmless
  return Status::Ok();
}

Status TokenStore::Update(const std::function<Status(std::vector<TokenRecord>&)>& change) {
  struct stat st;
  if (::stat(file_.path().c_str(), &st) == 0)
    FL_RETURN_IF_ERROR(CheckSecretFile(st, file_.path(), kWhat));
  FL_RETURN_IF_ERROR(file_.Update([&](std::string_view now) -> Result<std::string> {
    FL_ASSIGN_OR_RETURN(std::vector<TokenRecord> records, ParseTable(now, file_.path()));
    FL_RETURN_IF_ERROR(change(records));
    return FormatTable(records);
  }));
  MutexLock lock(mu_);
  loaded_ = FileVersion{};  // re-read on next use
  return Status::Ok();
}

Result<std::string> TokenStore::Add(const std::string& actor_text, const std::string& role,
                                    const std::string& org) {
  FL_ASSIGN_OR_RETURN(std::string actor, NormalizeActor(actor_text));
  FL_ASSIGN_OR_RETURN(fb::Role r, RoleFromName(role));
  if (r == fb::Role::system)
    return InvalidArgument("no token can act as the system").WithField("role");
  if (r == fb::Role::charity && org.empty())
    return InvalidArgument("a charity token needs --org").WithField("org");
  if (r != fb::Role::charity && !org.empty())
    return InvalidArgument("only charity tokens are scoped to an org").WithField("org");
  FL_ASSIGN_OR_RETURN(std::string token,
                      RandomSecret(kTokenRandomBytes, "a token", [](ByteView random) {
                        return std::string(kTokenPrefix) + HexEncode(random);
                      }));
  TokenRecord rec;
  rec.hash = TokenHash(token);
  rec.id = rec.hash.substr(0, 8);
  rec.actor = actor;
  rec.role = std::string(RoleName(r));
  rec.org = org;
  rec.created_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  FL_RETURN_IF_ERROR(Update([&](std::vector<TokenRecord>& records) {
    if (records.size() >= kTokensMax)
      return TooLarge("the token table holds at most 10,000 tokens");
    records.push_back(rec);
    return Status::Ok();
  }));
  return token;
}

Result<int> TokenStore::Revoke(const std::string& id_or_actor) {
  // An id is 8 hex digits, which also normalises to itself.
  Result<std::string> actor = NormalizeActor(id_or_actor, "id_or_actor");
  const std::string& name = actor.ok() ? *actor : id_or_actor;
  int count = 0;
  FL_RETURN_IF_ERROR(Update([&](std::vector<TokenRecord>& records) {
    for (TokenRecord& r : records) {
      if (!r.revoked && (r.id == name || r.actor == name)) {
        r.revoked = true;
        ++count;
      }
    }
    if (count == 0) return NotFound("no active token with id or actor '" + id_or_actor + "'");
    return Status::Ok();
  }));
  return count;
}

Result<std::vector<TokenRecord>> TokenStore::List() {
  MutexLock lock(mu_);
  FL_RETURN_IF_ERROR(Load());
  return records_;
}

Result<Principal> TokenStore::Authenticate(std::string_view authorization) {
  auto denied = [](std::string why) {
    return Status(StatusCode::kUnauthenticated, std::move(why));
  };
  if (authorization.empty())
    return denied("this request needs a bearer token (Authorization: Bearer fl_...)");
  if (!authorization.starts_with("Bearer "))
    return denied("the Authorization header must be 'Bearer <token>'");
  std::string_view token = authorization.substr(7);
  if (!token.starts_with(kTokenPrefix) ||
      token.size() != kTokenPrefix.size() + 2 * kTokenRandomBytes) {
    return denied("the bearer token is malformed");
  }
  std::string hash = TokenHash(token);
  MutexLock lock(mu_);
  if (Status loaded = Load(); !loaded.ok())
    return IoError("the server's token table cannot be used: " + loaded.message());
  for (const TokenRecord& r : records_) {
    if (!ConstantTimeEqual(r.hash, hash)) continue;
    if (r.revoked) return denied("this token was revoked");
    Result<fb::Role> role = RoleFromName(r.role);
    if (!role.ok()) return denied("this token has an unknown role");
    if (!NormalizeActor(r.actor).ok())
      return denied("this token's actor '" + r.actor + "' is not a valid name; issue a new token");
    return Principal{r.id, r.actor, *role, r.org};
  }
  return denied("unknown bearer token");
}

}  // namespace fundledger
