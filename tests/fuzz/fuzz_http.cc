// Fuzz target: the HTTP request path, in the server's order. Raw bytes go through the head
// check (request_head.h), Beast's request parser with the server's limits, the framing check,
// the body limit chosen by who is calling (Service::Authorized), then through the Service
// (routing, tokens, JSON, rules) of a real ledger. Seeds include the malformed requests of
// issue 17: garbage request lines, HTTP/0.9, Content-Length with Transfer-Encoding, duplicate
// Content-Length, bare-LF line ends.
#include <unistd.h>

#include <boost/beast.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "api/beast_request.h"
#include "api/http_server.h"
#include "api/request_head.h"
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
  const fundledger::ServerOptions limits;
  fundledger::HeadScan scan = fundledger::ScanRequestHead(raw, limits.header_bytes_max);
  if (scan.kind != fundledger::HeadScan::kComplete) return 0;
  // What the head check lets through has CRLF line ends only.
  for (size_t i = 0; i < scan.head_bytes; ++i) {
    if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) __builtin_trap();
  }
  http::request_parser<http::string_body> parser;
  parser.body_limit(limits.body_bytes_max);
  parser.header_limit(static_cast<uint32_t>(limits.header_bytes_max));
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(raw.data(), scan.head_bytes), ec);
  if (ec || !parser.is_header_done() || used != scan.head_bytes) return 0;
  if (!fundledger::CheckFraming(parser.get()).ok()) return 0;
  const bool large = world.service->Authorized(fundledger::FromBeastRequest(parser.get()));
  parser.body_limit(large ? limits.body_bytes_max : limits.public_body_bytes_max);
  // A request without a body is done with its head; Beast's parser takes nothing after that.
  if (!parser.is_done()) parser.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
  if (ec || !parser.is_done()) return 0;
  if (!large && parser.get().body().size() > limits.public_body_bytes_max) __builtin_trap();
  fundledger::HttpResponse response =
      world.service->Handle(fundledger::FromBeastRequest(parser.release()));
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
