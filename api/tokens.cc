#include "api/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "api/file_replace.h"
#include "crypto/sha256.h"

namespace fundledger {
namespace json = boost::json;
namespace {

constexpr std::string_view kTokenPrefix = "fl_";
constexpr size_t kTokenRandomBytes = 32;
constexpr size_t kTokensMax = 10'000;

std::string TokenHash(std::string_view token) { return HashHex(Sha256::Digest(AsBytes(token))); }

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

TokenStore::TokenStore(std::string data_dir) : path_(std::move(data_dir) + "/tokens") {}

Status TokenStore::Load() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    records_.clear();
    loaded_mtime_ns_ = 0;
    return Status::Ok();
  }
  int64_t mtime = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (mtime == loaded_mtime_ns_) return Status::Ok();
  if ((st.st_mode & 077) != 0)
    return InvalidArgument("token table " + path_ + " is readable by others; run chmod 600 on it");
  std::ifstream in(path_);
  std::vector<TokenRecord> records;
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    const json::object* object = ec ? nullptr : v.if_object();
    if (object == nullptr)
      return Corruption("token table " + path_ + " line " + std::to_string(n) + " is not JSON");
    const json::object& o = *object;
    TokenRecord r;
    auto str = [&](const char* k) -> std::string {
      const json::value* f = o.if_contains(k);
      const json::string* s = f != nullptr ? f->if_string() : nullptr;
      return s != nullptr ? std::string(*s) : std::string();
    };
    r.id = str("id");
    r.hash = str("hash");
    r.actor = str("actor");
    r.role = str("role");
    r.org = str("org");
    if (const json::value* c = o.if_contains("created_ms"); c != nullptr && c->if_int64())
      r.created_ms = *c->if_int64();
    if (const json::value* rv = o.if_contains("revoked"); rv != nullptr && rv->is_bool())
      r.revoked = rv->as_bool();
    records.push_back(std::move(r));
  }
  records_ = std::move(records);
  loaded_mtime_ns_ = mtime;
  return Status::Ok();
}

Status TokenStore::Save(const std::vector<TokenRecord>& records) {
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
  FL_RETURN_IF_ERROR(ReplaceFile(path_, text, 0600, "the token table"));
  loaded_mtime_ns_ = -1;  // re-read on next use
  return Status::Ok();
}

Result<std::string> TokenStore::Add(const std::string& actor, const std::string& role,
                                    const std::string& org) {
  if (actor.empty() || actor.size() > kActorBytesMax || !IsValidKeyName(actor)) {
    return InvalidArgument("actor must be 1..128 characters without spaces").WithField("actor");
  }
  FL_ASSIGN_OR_RETURN(fb::Role r, RoleFromName(role));
  if (r == fb::Role::system)
    return InvalidArgument("no token can act as the system").WithField("role");
  if (r == fb::Role::charity && org.empty())
    return InvalidArgument("a charity token needs --org").WithField("org");
  if (r != fb::Role::charity && !org.empty())
    return InvalidArgument("only charity tokens are scoped to an org").WithField("org");
  std::lock_guard<std::mutex> lock(mu_);
  FL_RETURN_IF_ERROR(Load());
  if (records_.size() >= kTokensMax) return TooLarge("the token table holds at most 10,000 tokens");
  uint8_t random[kTokenRandomBytes];
  if (RAND_bytes(random, sizeof random) != 1) return Internal("no randomness for a token");
  std::string token = std::string(kTokenPrefix) + HexEncode(ByteView(random, sizeof random));
  OPENSSL_cleanse(random, sizeof random);
  TokenRecord rec;
  rec.hash = TokenHash(token);
  rec.id = rec.hash.substr(0, 8);
  rec.actor = actor;
  rec.role = std::string(RoleName(r));
  rec.org = org;
  rec.created_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::vector<TokenRecord> next = records_;
  next.push_back(rec);
  FL_RETURN_IF_ERROR(Save(next));
  return token;
}

Result<int> TokenStore::Revoke(const std::string& id_or_actor) {
  std::lock_guard<std::mutex> lock(mu_);
  FL_RETURN_IF_ERROR(Load());
  std::vector<TokenRecord> next = records_;
  int count = 0;
  for (TokenRecord& r : next) {
    if (!r.revoked && (r.id == id_or_actor || r.actor == id_or_actor)) {
      r.revoked = true;
      ++count;
    }
  }
  if (count == 0) return NotFound("no active token with id or actor '" + id_or_actor + "'");
  FL_RETURN_IF_ERROR(Save(next));
  return count;
}

Result<std::vector<TokenRecord>> TokenStore::List() {
  std::lock_guard<std::mutex> lock(mu_);
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
  std::lock_guard<std::mutex> lock(mu_);
  FL_RETURN_IF_ERROR(Load());
  for (const TokenRecord& r : records_) {
    if (!ConstantTimeEqual(r.hash, hash)) continue;
    if (r.revoked) return denied("this token was revoked");
    Result<fb::Role> role = RoleFromName(r.role);
    if (!role.ok()) return denied("this token has an unknown role");
    return Principal{r.id, r.actor, *role, r.org};
  }
  return denied("unknown bearer token");
}

}  // namespace fundledger
