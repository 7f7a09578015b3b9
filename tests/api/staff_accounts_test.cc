// Staff accounts and console sessions as people meet them: a password hashed with Argon2id in a
// private file, a session cookie the page's script cannot read, POSTs refused without the
// session's CSRF token, lockout after repeated wrong passwords, the idle timeout, an admin
// disabling and resetting accounts; bearer tokens unchanged for machine clients.
#include "api/staff_accounts.h"

#include <sys/stat.h>

#include <boost/json.hpp>

#include "api/service.h"
#include "tests/domain_fixture.h"
#include "tests/temp_dir.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

TEST(StaffAccounts, PasswordsAreArgon2idHashesInAPrivateFile) {
  TempDir dir;
  StaffAccounts accounts(dir.path());
  ASSERT_TRUE(accounts.Create("Clerk.Li", "maker", "", "correct horse battery").ok());
  EXPECT_EQ(accounts.Create("clerk.li", "checker", "", "another long one").code(),
            StatusCode::kConflict);
  EXPECT_EQ(accounts.Create("clerk.wu", "maker", "", "short").code(), StatusCode::kInvalidArgument);
  struct stat st;
  ASSERT_EQ(::stat((dir.path() + "/accounts").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = *SharedFile(dir.path() + "/accounts", "accounts").Read();
  EXPECT_NE(text.find("$argon2id$v=19$m=19456,t=2,p=1$"), std::string::npos) << text;
  EXPECT_EQ(text.find("correct horse"), std::string::npos);
  Result<Principal> who = accounts.LogIn("CLERK.LI", "correct horse battery", 1000);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->actor, "clerk.li");
  EXPECT_EQ(who->role, fb::Role::maker);
  EXPECT_EQ(accounts.LogIn("clerk.li", "wrong horse battery", 1000).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(accounts.LogIn("nobody", "correct horse battery", 1000).status().message(),
            "wrong name or password");
}

TEST(StaffAccounts, RepeatedWrongPasswordsLockTheAccountUntilItsTimeOrAReset) {
  TempDir dir;
  StaffAccounts accounts(dir.path());
  ASSERT_TRUE(accounts.Create("clerk.li", "maker", "", "correct horse battery").ok());
  int64_t now = 1'000'000;
  for (int i = 0; i < kLoginFailuresMax; ++i)
    EXPECT_FALSE(accounts.LogIn("clerk.li", "guess " + std::to_string(i), now).ok());
  Result<Principal> locked = accounts.LogIn("clerk.li", "correct horse battery", now);
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.status().message().find("locked"), std::string::npos);
  EXPECT_TRUE(accounts.LogIn("clerk.li", "correct horse battery", now + kLockoutMs + 1).ok());
  for (int i = 0; i < kLoginFailuresMax; ++i) (void)accounts.LogIn("clerk.li", "guess", now);
  ASSERT_TRUE(accounts.ResetPassword("clerk.li", "a new passphrase").ok());
  EXPECT_TRUE(accounts.LogIn("clerk.li", "a new passphrase", now).ok());
  ASSERT_TRUE(accounts.SetDisabled("clerk.li", true).ok());
  EXPECT_FALSE(accounts.LogIn("clerk.li", "a new passphrase", now).ok());
}

// Replaces every stored hash with one Argon2 cannot read (what a damaged table holds).
void DamageHashes(const std::string& dir) {
  SharedFile file(dir + "/accounts", "accounts");
  std::string text = *file.Read();
  for (size_t at = 0; (at = text.find("$argon2id$", at)) != std::string::npos; ++at) {
    size_t end = text.find('"', at);
    text.replace(at, end - at, "$argon2id$v=19$m=19456,t=2,p=1$not*base64$not*base64");
  }
  ASSERT_TRUE(file.Replace(text).ok());
}

TEST(StaffAccounts, APasswordThatCannotBeCheckedIsAnErrorNeverAWrongPasswordNorALockout) {
  TempDir dir;
  StaffAccounts accounts(dir.path());
  ASSERT_TRUE(accounts.Create("clerk.li", "maker", "", "correct horse battery").ok());
  std::string hash = *SharedFile(dir.path() + "/accounts", "accounts").Read();
  hash = hash.substr(hash.find("$argon2id$"));
  hash.resize(hash.find('"'));
  Result<bool> right = PasswordMatches(hash, "correct horse battery");
  Result<bool> wrong = PasswordMatches(hash, "wrong horse battery");
  ASSERT_TRUE(right.ok() && wrong.ok());
  EXPECT_TRUE(*right);
  EXPECT_FALSE(*wrong);

  DamageHashes(dir.path());
  for (int i = 0; i <= kLoginFailuresMax; ++i) {
    Result<Principal> who = accounts.LogIn("clerk.li", "correct horse battery", 1000);
    ASSERT_FALSE(who.ok());
    EXPECT_EQ(who.status().code(), StatusCode::kCorruption) << who.status().ToString();
    EXPECT_NE(who.status().message().find("cannot be checked"), std::string::npos);
  }
  std::vector<StaffAccount> listed = *accounts.List();
  EXPECT_EQ(listed.at(0).failures, 0);
  EXPECT_EQ(listed.at(0).locked_until_ms, 0) << "a failed check is no wrong password";
  ASSERT_TRUE(accounts.ResetPassword("clerk.li", "a new passphrase").ok());
  EXPECT_TRUE(accounts.LogIn("clerk.li", "a new passphrase", 1000).ok());
}

class ConsoleSessionTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    tokens_ = std::make_unique<TokenStore>(dir_);
    admin_token_ = *tokens_->Add("admin.zhao", "admin", "");
    ServiceOptions options;
    options.data_dir = dir_;
    options.clock_ms = [this] { return now_ms_; };
    service_ = std::make_unique<Service>(*ledger_, *projections_, *tokens_, metrics_, options);
  }

  HttpResponse Call(const std::string& method, const std::string& target,
                    const std::string& body = "", const std::string& cookie = "",
                    const std::string& csrf = "", const std::string& bearer = "") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.cookie = cookie;
    r.csrf_token = csrf;
    if (!bearer.empty()) r.authorization = "Bearer " + bearer;
    if (method == "POST") r.idempotency_key = "k" + std::to_string(++calls_);
    r.body = body;
    return service_->Handle(r);
  }

  // The admin creates an account; its HTTP status.
  int CreateAccount(const std::string& name, const std::string& role, const std::string& password) {
    return Call("POST", "/v1/accounts",
                R"({"name":")" + name + R"(","role":")" + role + R"(","password":")" + password +
                    R"("})",
                "", "", admin_token_)
        .status;
  }

  // Logs in; returns the Cookie header value and the CSRF token.
  std::pair<std::string, std::string> LogIn(const std::string& name, const std::string& password) {
    HttpResponse r = Call("POST", "/v1/sessions",
                          R"({"name":")" + name + R"(","password":")" + password + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return {};
    EXPECT_NE(r.set_cookie.find("; HttpOnly"), std::string::npos) << r.set_cookie;
    EXPECT_NE(r.set_cookie.find("; SameSite=Strict"), std::string::npos) << r.set_cookie;
    return {r.set_cookie.substr(0, r.set_cookie.find(';')),
            std::string(json::parse(r.body).at("csrf_token").as_string())};
  }

  std::unique_ptr<TokenStore> tokens_;
  std::string admin_token_;
  Metrics metrics_;
  std::unique_ptr<Service> service_;
  int64_t now_ms_ = 1'800'000'000'000;
  int calls_ = 0;
};

TEST_F(ConsoleSessionTest, ALoggedInClerkActsWithTheCookieAndTheCsrfTokenOnly) {
  HttpResponse created = Call("POST", "/v1/accounts",
                              R"({"name":"clerk.zhang","role":"maker","password":"pass word 1"})",
                              "", "", admin_token_);
  ASSERT_EQ(created.status, 201) << created.body;
  auto [cookie, csrf] = LogIn("clerk.zhang", "pass word 1");
  HttpResponse me = Call("GET", "/v1/sessions/current", "", cookie);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(json::parse(me.body).at("actor").as_string(), "clerk.zhang");
  EXPECT_EQ(json::parse(me.body).at("csrf_token").as_string(), csrf);
  std::string roll = "/v1/disbursement-batches?fund_id=F1&period=2025-03";
  std::string body = "beneficiary_id,program_id,amount\nNOBODY,dibao,1\n";
  EXPECT_EQ(Call("POST", roll, body, cookie).status, 403);  // no CSRF token: a forged form
  std::string forged = csrf;  // one character changed, whatever the token starts with
  forged[0] = forged[0] == '0' ? '1' : '0';
  EXPECT_EQ(Call("POST", roll, body, cookie, forged).status, 403);
  EXPECT_NE(Call("POST", roll, body, cookie, csrf).status, 403);   // reaches the roll's checks
  EXPECT_EQ(Call("GET", "/v1/accounts", "", cookie).status, 403);  // a maker is not an admin
  // The body limit for a session's POST is the staff one, as for a token.
  HttpRequest head;
  head.method = "POST";
  head.target = roll;
  head.cookie = cookie;
  head.csrf_token = csrf;
  EXPECT_TRUE(service_->Authorized(head));
  // Idle past the timeout: logged out.
  now_ms_ += kSessionIdleMs + 1;
  EXPECT_EQ(Call("GET", "/v1/sessions/current", "", cookie).status, 401);
}

// The flake this guards: a check Argon2 could not do answered "wrong name or password".
TEST_F(ConsoleSessionTest, ALogInWhosePasswordCannotBeCheckedAnswers500SayingSo) {
  ASSERT_EQ(CreateAccount("clerk.zhang", "maker", "pass word 1"), 201);
  DamageHashes(dir_);
  HttpResponse r =
      Call("POST", "/v1/sessions", R"({"name":"clerk.zhang","password":"pass word 1"})");
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("cannot be checked"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("wrong name or password"), std::string::npos) << r.body;
  EXPECT_TRUE(r.set_cookie.empty());
}

// Sessions live in the issuing server's memory: another server (a restart, a cluster's other
// node) does not know the cookie and asks for a log-in. However busy, a session ends after
// kSessionLifetimeMs.
TEST_F(ConsoleSessionTest, ASessionIsKnownOnlyToTheServerThatIssuedItAndForAWorkingDayAtMost) {
  ASSERT_EQ(CreateAccount("clerk.zhang", "maker", "pass word 1"), 201);
  auto [cookie, csrf] = LogIn("clerk.zhang", "pass word 1");
  ServiceOptions options;
  options.data_dir = dir_;
  options.clock_ms = [this] { return now_ms_; };
  Service other(*ledger_, *projections_, *tokens_, metrics_, options);
  HttpRequest me;
  me.method = "GET";
  me.target = "/v1/sessions/current";
  me.cookie = cookie;
  EXPECT_EQ(other.Handle(me).status, 401);
  EXPECT_EQ(service_->Handle(me).status, 200);
  for (int64_t worked = 0; worked <= kSessionLifetimeMs; worked += kSessionIdleMs / 2) {
    now_ms_ += kSessionIdleMs / 2;
    if (service_->Handle(me).status != 200) break;
  }
  EXPECT_EQ(service_->Handle(me).status, 401);
  EXPECT_GT(now_ms_ - 1'800'000'000'000, kSessionLifetimeMs);  // used all along, never idle
}

TEST_F(ConsoleSessionTest, DisablingOrResettingAnAccountEndsItsSessions) {
  ASSERT_EQ(Call("POST", "/v1/accounts",
                 R"({"name":"checker.qian","role":"checker","password":"pass word 2"})", "", "",
                 admin_token_)
                .status,
            201);
  auto [cookie, csrf] = LogIn("checker.qian", "pass word 2");
  EXPECT_EQ(Call("GET", "/v1/sessions/current", "", cookie).status, 200);
  ASSERT_EQ(Call("POST", "/v1/accounts/checker.qian/disable", "{}", "", "", admin_token_).status,
            200);
  EXPECT_EQ(Call("GET", "/v1/sessions/current", "", cookie).status, 401);
  EXPECT_EQ(
      Call("POST", "/v1/sessions", R"({"name":"checker.qian","password":"pass word 2"})").status,
      401);
  ASSERT_EQ(Call("POST", "/v1/accounts/checker.qian/enable", "{}", "", "", admin_token_).status,
            200);
  auto [cookie2, csrf2] = LogIn("checker.qian", "pass word 2");
  ASSERT_EQ(Call("POST", "/v1/accounts/checker.qian/password", R"({"password":"new pass word"})",
                 "", "", admin_token_)
                .status,
            200);
  EXPECT_EQ(Call("GET", "/v1/sessions/current", "", cookie2).status, 401);
  auto [cookie3, csrf3] = LogIn("checker.qian", "new pass word");
  EXPECT_EQ(Call("POST", "/v1/sessions/current/logout", "{}", cookie3).status, 403);  // no CSRF
  HttpResponse logout = Call("POST", "/v1/sessions/current/logout", "{}", cookie3, csrf3);
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.set_cookie.find("Max-Age=0"), std::string::npos);
  HttpResponse list = Call("GET", "/v1/accounts", "", "", "", admin_token_);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("argon2"), std::string::npos);
  EXPECT_NE(list.body.find("checker.qian"), std::string::npos);
}

// A browser's key (made at the first log-in there) is a request: the account lists it, the
// session does not sign with it, until an admin registers it in an entry.
TEST_F(ConsoleSessionTest, ABrowserKeyWaitsForAnAdminToRegisterItInAnEntry) {
  ASSERT_EQ(CreateAccount("clerk.zhang", "maker", "pass word 1"), 201);
  auto [cookie, csrf] = LogIn("clerk.zhang", "pass word 1");
  auto signing = [&, cookie = cookie] {  // clang 14 cannot capture a structured binding
    return json::parse(Call("GET", "/v1/sessions/current", "", cookie).body).at("signing");
  };
  EXPECT_EQ(signing().at("required").as_bool(), false);
  EXPECT_EQ(signing().at("origin").as_string(), ledger_->log().origin());
  EXPECT_TRUE(signing().at("key_ids").as_array().empty());

  Ed25519PrivateKey browser = Ed25519PrivateKey::Generate();
  const Ed25519PublicKey& pk = browser.public_key();
  std::string public_key = Base64Encode(ByteView(pk.data(), pk.size()));
  std::string hand_in = R"({"public_key":")" + public_key + R"("})";
  HttpResponse enrolled = Call("POST", "/v1/sessions/current/key", hand_in, cookie, csrf);
  ASSERT_EQ(enrolled.status, 201) << enrolled.body;
  EXPECT_EQ(json::parse(enrolled.body).at("status").as_string(), "enrolling");
  EXPECT_EQ(Call("POST", "/v1/sessions/current/key", hand_in, "", "", admin_token_).status, 400)
      << "a token's client keeps its key in a file";
  auto listed = [&] {
    json::array accounts = json::parse(Call("GET", "/v1/accounts", "", "", "", admin_token_).body)
                               .at("accounts")
                               .as_array();
    return accounts.at(0).at("enrolling_key").as_object();
  };
  EXPECT_EQ(listed().at("key_id").as_string(), ActorKeyId(pk));
  EXPECT_FALSE(listed().at("registered").as_bool());
  EXPECT_TRUE(signing().at("key_ids").as_array().empty()) << "a request signs nothing";

  HttpResponse registered =
      Call("POST", "/v1/actor-keys",
           R"({"actor":"clerk.zhang","public_key":")" + public_key + R"(","document":"d"})", "", "",
           admin_token_);
  ASSERT_EQ(registered.status, 201) << registered.body;
  EXPECT_TRUE(listed().at("registered").as_bool());
  ASSERT_EQ(signing().at("key_ids").as_array().size(), 1u);
  EXPECT_EQ(signing().at("key_ids").as_array()[0].as_string(), ActorKeyId(pk));
  json::object key = json::parse(Call("GET", "/v1/actor-keys", "", cookie).body)
                         .at("keys")
                         .as_array()
                         .at(0)
                         .as_object();
  EXPECT_EQ(key.at("actor").as_string(), "clerk.zhang");
  EXPECT_EQ(key.at("roles").as_array().at(0).as_string(), "maker") << "the account's role";
  ASSERT_EQ(Call("POST", "/v1/actor-keys/" + ActorKeyId(pk) + "/revoke", R"({"reason":"lost"})", "",
                 "", admin_token_)
                .status,
            201);
  EXPECT_TRUE(signing().at("key_ids").as_array().empty()) << "a revoked key signs nothing";
  EXPECT_EQ(Call("POST", "/v1/sessions/current/key", hand_in, cookie, csrf).status, 409)
      << "a revoked key is not handed in again";

  // Another account cannot hand in a key registered to someone else.
  ASSERT_EQ(
      Call("POST", "/v1/accounts", R"({"name":"clerk.wu","role":"maker","password":"pass word 3"})",
           "", "", admin_token_)
          .status,
      201);
  auto [other, other_csrf] = LogIn("clerk.wu", "pass word 3");
  EXPECT_EQ(Call("POST", "/v1/sessions/current/key", hand_in, other, other_csrf).status, 409);
}

}  // namespace
}  // namespace fundledger::testing
