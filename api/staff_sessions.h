// Console sessions: what a logged-in staff member's browser holds instead of a bearer token.
//
// A session is 256 random bits, sent as the cookie `fl_session` (HttpOnly, SameSite=Strict,
// Path=/), with a CSRF token (another 256 random bits) that the login answer gives the page
// and every POST must echo in `X-CSRF-Token` (a synchronizer token: a cross-site form cannot
// read it). A session ends at logout, after kSessionIdleMs without a request, or when its
// account is disabled or its password reset (the service checks the account on each use).
// Sessions live in memory only: a restart logs everyone out. At most kSessionsMax at once
// (the least recently used goes first).
//
// Thread safety: every method may be called from any thread.
//
//   StaffSessions sessions;
//   StaffSession s = sessions.Start(principal, now_ms);   // Set-Cookie: SessionCookie(s.id)
//   Result<StaffSession> again = sessions.Find(CookieValue(cookie_header, kSessionCookie), now);
#pragma once

#include <map>
#include <string>

#include "api/tokens.h"
#include "crypto/mutex.h"

namespace fundledger {

inline constexpr int64_t kSessionIdleMs = 30 * 60 * 1000;
inline constexpr size_t kSessionsMax = 10'000;
inline constexpr const char* kSessionCookie = "fl_session";

struct StaffSession {
  std::string id;
  std::string csrf_token;
  Principal who;
  int64_t last_used_ms = 0;
};

class StaffSessions {
 public:
  Result<StaffSession> Start(const Principal& who, int64_t now_ms);
  // The live session `id`, its idle time restarted; unauthenticated when unknown or idle.
  Result<StaffSession> Find(const std::string& id, int64_t now_ms);
  void End(const std::string& id);
  // Ends every session of `actor` (account disabled or password reset).
  void EndAll(const std::string& actor);

 private:
  Mutex mu_;
  std::map<std::string, StaffSession> sessions_ FL_GUARDED_BY(mu_);
};

// The value of cookie `name` in a Cookie header ("a=1; fl_session=...") or "".
std::string CookieValue(std::string_view cookie_header, std::string_view name);
// The Set-Cookie value that gives a browser the session (an empty id: one that clears it).
std::string SessionCookie(const std::string& id);

}  // namespace fundledger
