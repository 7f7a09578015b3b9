// A ledger with the HTTP service over it and bearer tokens by name, for the tests that call the
// API in process (the role matrix, rolls uploaded, batches reviewed). A test's SetUp builds its
// ledger with LedgerFixture's helpers, then calls StartService with the tokens it needs.
//
//   StartService({{"maker", "t.maker", "maker"}, {"checker", "t.checker", "checker"}});
//   HttpResponse r = Call("GET", "/v1/disbursement-batches/R1/review", "checker");
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/service.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {

class ServiceFixture : public LedgerFixture {
 protected:
  struct TokenFor {
    std::string key;    // how a test names it in Call
    std::string actor;  // the token's actor
    std::string role;
    std::string organisation = "";  // a charity token's organisation
  };

  // `options` as the test wants them, over this fixture's data directory.
  void StartService(const std::vector<TokenFor>& tokens, ServiceOptions options = {}) {
    tokens_ = std::make_unique<TokenStore>(dir_);
    for (const TokenFor& t : tokens) token_[t.key] = *tokens_->Add(t.actor, t.role, t.organisation);
    options.data_dir = dir_;
    service_ = std::make_unique<Service>(*ledger_, *projections_, *tokens_, metrics_, options);
  }

  // A request with token `who` (none when empty) and `body`; a POST gets a fresh Idempotency-Key
  // and says its body is of `type`.
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& who,
                    const std::string& body = "", const std::string& language = "",
                    const std::string& type = "application/json") {
    return service_->Handle(Request(method, target, who, body, language, type));
  }

  // A POST with Idempotency-Key `key`: the same key again is a retry of the same command.
  HttpResponse CallWithKey(const std::string& target, const std::string& who,
                           const std::string& body, const std::string& key,
                           const std::string& type = "application/json") {
    HttpRequest r = Request("POST", target, who, body, "", type);
    r.idempotency_key = key;
    return service_->Handle(r);
  }

  HttpRequest Request(const std::string& method, const std::string& target, const std::string& who,
                      const std::string& body, const std::string& language,
                      const std::string& type) {
    HttpRequest r;
    r.method = method;
    r.target = target;
    if (!who.empty()) r.authorization = "Bearer " + token_.at(who);
    r.accept_language = language;
    r.body = body;
    if (method == "POST") {
      r.idempotency_key = "service-fixture-" + std::to_string(++calls_);
      r.content_type = type;
    }
    return r;
  }

  std::unique_ptr<TokenStore> tokens_;
  Metrics metrics_;
  std::unique_ptr<Service> service_;
  std::map<std::string, std::string> token_;
  int calls_ = 0;
};

}  // namespace fundledger::testing
