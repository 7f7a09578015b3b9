// Fuzz target: the HTTP request path. Raw bytes go through Beast's request parser with the
// server's limits, then through the Service (routing, tokens, JSON, rules) of a real ledger.
#include <unistd.h>

#include <boost/beast.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "api/beast_request.h"
#include "api/service.h"
#include "ledger/ledger.h"

namespace {

struct World {
  std::string dir;
  fundledger::Projections projections;
  std::unique_ptr<fundledger::Ledger> ledger;
  std::unique_ptr<fundledger::TokenStore> tokens;
  fundledger::Metrics metrics;
  std::unique_ptr<fundledger::Service> service;
  std::string maker_token;
};

World& TheWorld() {
  static World* w = [] {
    auto* world = new World;
    world->dir = (std::filesystem::temp_directory_path() /
                  ("fundledger_fuzz_http_" + std::to_string(::getpid())))
                     .string();
    std::filesystem::remove_all(world->dir);
    world->ledger =
        std::move(fundledger::Ledger::Create(world->dir, "fuzz.local",
                                             fundledger::WithProjections(world->projections, {})))
            .value();
    world->tokens = std::make_unique<fundledger::TokenStore>(world->dir);
    world->maker_token = *world->tokens->Add("fuzzer", "admin", "");
    world->service =
        std::make_unique<fundledger::Service>(*world->ledger, world->projections, *world->tokens,
                                              world->metrics, fundledger::ServiceOptions{});
    return world;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  World& world = TheWorld();
  std::string raw(reinterpret_cast<const char*>(data), size);
  // Requests that carry "TOKEN" get the admin token, so the fuzzer reaches past authentication.
  for (size_t at = raw.find("TOKEN"); at != std::string::npos; at = raw.find("TOKEN", at + 1)) {
    raw.replace(at, 5, world.maker_token);
  }
  http::request_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  parser.header_limit(16 << 10);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(raw), ec);
  if (ec || !parser.is_done()) return 0;
  fundledger::HttpResponse response =
      world.service->Handle(fundledger::FromBeastRequest(parser.get()));
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
