// Console sessions: what a logged-in staff member's browser holds instead of a bearer token.
//
// A session is 256 random bits, sent as the cookie `fl_session` (HttpOnly, SameSite=Strict,
// Path=/), with a CSRF token (another 256 random bits) that the login answer gives the page
// and every POST must echo in `X-CSRF-Token` (a synchronizer token: a cross-site form cannot
// read it). A session ends at logout, after kSessionIdleMs without a request, kSessionLifetimeMs
// after its log-in however busy, or when its account is disabled or its password reset (the
// service checks the account on each use). At most kSessionsMax at once (the least recently
// used goes first).
// Sessions live in this process's memory only, by design: a restart logs everyone out (they log
// in again; nothing they did is lost: commands are in the log, idempotent on retry), and a
// session is known only to the server that issued it. In a cluster, a log-in is a POST, so it
// is served by the writer (a follower answers 421 naming it); a follower never accepts a session
// it did not issue (401: log in again), and after a failover everyone logs in at the new writer.
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
inline constexpr int64_t kSessionLifetimeMs = 12 * 60 * 60 * 1000;  // a working day
inline constexpr size_t kSessionsMax = 10'000;
inline constexpr const char* kSessionCookie = "fl_session";

struct StaffSession {
  std::string id;
  std::string csrf_token;
  Principal who;
  int64_t last_used_ms = 0;
  int64_t started_ms = 0;
};

class StaffSessions {
 public:
  Result<StaffSession> Start(const Principal& who, int64_t now_ms);
  // The live session `id`, its idle time restarted; unauthenticated when unknown, idle or
  // older than kSessionLifetimeMs.
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
