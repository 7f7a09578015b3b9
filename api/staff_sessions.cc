#include "api/staff_sessions.h"

#include "api/random_secret.h"
#include "crypto/encoding.h"

namespace fundledger {
namespace {

constexpr size_t kSecretBytes = 32;

Result<std::string> RandomHex() { return RandomSecret(kSecretBytes, "a session", HexEncode); }

Status NoSession() {
  return Status(StatusCode::kUnauthenticated, "not logged in, or logged out after " +
                                                  std::to_string(kSessionIdleMs / 60'000) +
                                                  " idle minutes: log in again");
}

}  // namespace

Result<StaffSession> StaffSessions::Start(const Principal& who, int64_t now_ms) {
  FL_ASSIGN_OR_RETURN(std::string id, RandomHex());
  FL_ASSIGN_OR_RETURN(std::string csrf, RandomHex());
  StaffSession s{id, csrf, who, now_ms, now_ms};
  MutexLock lock(mu_);
  while (sessions_.size() >= kSessionsMax) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used_ms < oldest->second.last_used_ms) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[id] = s;
  return s;
}

Result<StaffSession> StaffSessions::Find(const std::string& id, int64_t now_ms) {
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return NoSession();
  if (now_ms - it->second.last_used_ms > kSessionIdleMs ||
      now_ms - it->second.started_ms > kSessionLifetimeMs) {
    sessions_.erase(it);
    return NoSession();
  }
  it->second.last_used_ms = now_ms;
  return it->second;
}

void StaffSessions::End(const std::string& id) {
  MutexLock lock(mu_);
  sessions_.erase(id);
}

void StaffSessions::EndAll(const std::string& actor) {
  MutexLock lock(mu_);
  std::erase_if(sessions_, [&](const auto& s) { return s.second.who.actor == actor; });
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
  }
  return "";
}

std::string SessionCookie(const std::string& id) {
  return std::string(kSessionCookie) + "=" + id + "; Path=/; HttpOnly; SameSite=Strict" +
         (id.empty() ? "; Max-Age=0" : "");
}

}  // namespace fundledger
