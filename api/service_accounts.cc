// Staff accounts and console sessions (staff_accounts.h, staff_sessions.h): log in and out,
// who is logged in, and the admin's account table.
#include <boost/json.hpp>
#include <chrono>
#include <set>

#include "api/service.h"

namespace fundledger {
namespace json = boost::json;

namespace {

constexpr uint32_t kAnyStaff = kAdmin | kMaker | kChecker | kAuditor | kCharity;

json::object PrincipalJson(const Principal& who) {
  return json::object{
      {"actor", who.actor}, {"role", std::string(RoleName(who.role))}, {"org", who.org}};
}

}  // namespace

void Service::AddAccountRoutes() {
  AddPost("/v1/sessions", kPublic,
          "Log in with {name, password}: sets the HttpOnly session cookie and answers the CSRF "
          "token every POST of the session sends as X-CSRF-Token",
          fb::EventType::Unknown, {}, [](Service& s, Context& c) { return s.LogIn(c); });
  AddGet("/v1/sessions/current", kAnyStaff,
         "Who is calling: actor, role, org (and a session's CSRF token)", {},
         &Service::CurrentSession);
  AddPost("/v1/sessions/current/logout", kAnyStaff, "End the session and clear its cookie",
          fb::EventType::Unknown, {}, [](Service& s, Context& c) { return s.LogOut(c); });
  AddGet("/v1/accounts", kAdmin, "Staff accounts (no password hashes)", {}, &Service::ListAccounts);
  AddPost("/v1/accounts", kAdmin, "Create a staff account: {name, role, org?, password}",
          fb::EventType::Unknown, {}, [](Service& s, Context& c) { return s.CreateAccount(c); });
  AddPost("/v1/accounts/{name}/disable", kAdmin, "Disable an account and end its sessions",
          fb::EventType::Unknown, {},
          [](Service& s, Context& c) { return s.ChangeAccount(c, "disable"); });
  AddPost("/v1/accounts/{name}/enable", kAdmin, "Enable a disabled account", fb::EventType::Unknown,
          {}, [](Service& s, Context& c) { return s.ChangeAccount(c, "enable"); });
  AddPost("/v1/accounts/{name}/password", kAdmin,
          "Reset an account's password ({password}); unlocks it and ends its sessions",
          fb::EventType::Unknown, {},
          [](Service& s, Context& c) { return s.ChangeAccount(c, "password"); });
}

int64_t Service::NowMs() const {
  if (options_.clock_ms) return options_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Principal> Service::Authenticate(const HttpRequest& request, bool needs_credentials,
                                        bool check_csrf) {
  if (!request.authorization.empty()) return tokens_.Authenticate(request.authorization);
  std::string session_id = CookieValue(request.cookie, kSessionCookie);
  if (session_id.empty()) {
    if (!needs_credentials) return Principal{"", "public", fb::Role::reader, ""};
    return tokens_.Authenticate("");  // the one 401 for no credentials
  }
  Result<StaffSession> session = sessions_.Find(session_id, NowMs());
  if (!session.ok()) {
    if (!needs_credentials) return Principal{"", "public", fb::Role::reader, ""};
    return session.status();
  }
  if (accounts_ == nullptr || !accounts_->Active(session->who.actor)) {
    sessions_.EndAll(session->who.actor);
    return Status(StatusCode::kUnauthenticated, "the account is disabled");
  }
  if (check_csrf && request.csrf_token != session->csrf_token) {
    return Status(StatusCode::kPermissionDenied,
                  "a POST in a console session must send the session's X-CSRF-Token header");
  }
  return session->who;
}

HttpResponse Service::LogIn(Context& c) {
  if (accounts_ == nullptr) return ErrorResponse(NotFound("this server has no staff accounts"));
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  Result<std::string> name = body->String("name");
  if (!name.ok()) return ErrorResponse(name.status());
  Result<std::string> password = body->String("password");
  if (!password.ok()) return ErrorResponse(password.status());
  if (name->empty() || password->empty())
    return ErrorResponse(InvalidArgument("log in with a name and a password")
                             .WithField(name->empty() ? "name" : "password"));
  Result<Principal> who = accounts_->LogIn(*name, *password, NowMs());
  if (!who.ok()) return ErrorResponse(who.status());
  Result<StaffSession> session = sessions_.Start(*who, NowMs());
  if (!session.ok()) return ErrorResponse(session.status());
  json::object o = PrincipalJson(*who);
  o["csrf_token"] = session->csrf_token;
  o["idle_timeout_ms"] = kSessionIdleMs;
  o["signing"] = SigningJson(*who);
  HttpResponse r = JsonResponse(201, json::serialize(o));
  r.set_cookie = SessionCookie(session->id);
  return r;
}

HttpResponse Service::LogOut(Context& c) {
  sessions_.End(CookieValue(c.request.cookie, kSessionCookie));
  HttpResponse r = JsonResponse(200, R"({"logged_out":true})");
  r.set_cookie = SessionCookie("");
  return r;
}

HttpResponse Service::CurrentSession(Context& c) {
  json::object o = PrincipalJson(c.who);
  std::string id = CookieValue(c.request.cookie, kSessionCookie);
  if (c.request.authorization.empty() && !id.empty()) {
    Result<StaffSession> session = sessions_.Find(id, NowMs());
    if (session.ok()) o["csrf_token"] = session->csrf_token;
  }
  o["signing"] = SigningJson(c.who);
  return JsonResponse(200, json::serialize(o));
}

HttpResponse Service::ListAccounts(Context&) {
  if (accounts_ == nullptr) return JsonResponse(200, R"({"accounts":[]})");
  Result<std::vector<StaffAccount>> all = accounts_->List();
  if (!all.ok()) return ErrorResponse(all.status());
  json::array list;
  int64_t now = NowMs();
  std::set<std::string> registered = ledger_.domain().Read([](const DomainState& s) {
    std::set<std::string> ids;
    for (const auto& [id, k] : s.keys.keys()) {
      if (!k.revoked_index) ids.insert(id);
    }
    return ids;
  });
  for (const StaffAccount& a : *all) {
    json::object o{{"name", a.name},
                   {"role", a.role},
                   {"org", a.org},
                   {"disabled", a.disabled},
                   {"locked", a.locked_until_ms > now},
                   {"created_ms", a.created_ms}};
    Result<Bytes> key = Base64Decode(a.enrolling_key);
    if (!a.enrolling_key.empty() && key.ok() && key->size() == kEd25519PublicKeyBytes) {
      Ed25519PublicKey pk{};
      std::copy(key->begin(), key->end(), pk.begin());
      std::string id = ActorKeyId(pk);
      o["enrolling_key"] = json::object{{"key_id", id},
                                        {"public_key", a.enrolling_key},
                                        {"since_ms", a.enrolling_key_ms},
                                        {"registered", registered.contains(id)}};
    }
    list.push_back(std::move(o));
  }
  return JsonResponse(200, json::serialize(json::object{{"accounts", std::move(list)}}));
}

HttpResponse Service::CreateAccount(Context& c) {
  if (accounts_ == nullptr) return ErrorResponse(NotFound("this server has no staff accounts"));
  Result<JsonFields> body = JsonFields::Parse(c.request.body);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string fields[4];
  const char* names[4] = {"name", "role", "org", "password"};
  for (int i = 0; i < 4; ++i) {
    Result<std::string> v = body->String(names[i]);
    if (!v.ok()) return ErrorResponse(v.status());
    fields[i] = std::move(*v);
  }
  Status created = accounts_->Create(fields[0], fields[1], fields[2], fields[3]);
  if (!created.ok()) return ErrorResponse(created);
  return JsonResponse(201, json::serialize(json::object{{"created", fields[0]}}));
}

HttpResponse Service::ChangeAccount(Context& c, const std::string& change) {
  if (accounts_ == nullptr) return ErrorResponse(NotFound("this server has no staff accounts"));
  const std::string& name = c.params["name"];
  Status done;
  if (change == "password") {
    Result<JsonFields> body = JsonFields::Parse(c.request.body);
    if (!body.ok()) return ErrorResponse(body.status());
    Result<std::string> password = body->String("password");
    if (!password.ok()) return ErrorResponse(password.status());
    done = accounts_->ResetPassword(name, *password);
  } else {
    done = accounts_->SetDisabled(name, change == "disable");
  }
  if (!done.ok()) return ErrorResponse(done);
  if (change != "enable") sessions_.EndAll(name);
  return JsonResponse(200, json::serialize(json::object{{"account", name}, {"done", change}}));
}

}  // namespace fundledger
