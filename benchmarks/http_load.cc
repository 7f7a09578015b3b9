// A load generator for the HTTP API: N keep-alive connections, each sending requests back to
// back, measuring every latency. Run it as its own process against `fundledger serve`.
//
//   http_load --port 8080 --token fl_... --connections 8 --seconds 5 --kind appropriation
//   http_load --port 8080 --token fl_... --connections 1 --seconds 5 --kind roll --roll-file
//   roll.csv http_load --port 8080 --token fl_MAKER --checker-token fl_CHECKER --kind disbursement
//             --people 20000 --first-month 2031-01 --connections 8 --seconds 5
//
// A disbursement is one payment as a clerk makes it: a batch of one line prepared by the maker
// (POST /v1/disbursement-batches) and approved by the checker (POST .../approve), two durable
// commits; its latency is both requests. Request k of the run pays person B(k mod people) for
// month first + k / people, so no slot is paid twice while months last; give each run its own
// months.
//
// Prints one line: kind, connections, requests (disbursements for that kind), req/s, p50/p99/p999
// in milliseconds, errors.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  CLI::App app{"fundledger HTTP load generator"};
  int port = 8080, connections = 8, seconds = 5;
  std::string token, kind = "appropriation", fund = "F-SUBSIDY", tag = "load";
  app.add_option("--port", port);
  app.add_option("--token", token)->required();
  app.add_option("--connections", connections)->check(CLI::Range(1, 1024));
  app.add_option("--seconds", seconds)->check(CLI::Range(1, 3600));
  app.add_option("--kind", kind,
                 "appropriation | disbursement | roll | checkpoint | inclusion | consistency");
  std::string checker_token, program = "dibao", first_month = "2031-01";
  uint64_t people = 0;
  int64_t amount_fen = 104500;
  app.add_option("--checker-token", checker_token,
                 "disbursement: the token of the checker who approves");
  app.add_option("--people", people,
                 "disbursement: beneficiaries B0..B(people-1), enrolled in --program");
  app.add_option("--program", program);
  app.add_option("--amount-fen", amount_fen);
  app.add_option("--first-month", first_month,
                 "disbursement: the month of the first payments (YYYY-MM)");
  uint64_t tree_size = 0;
  app.add_option("--tree-size", tree_size,
                 "inclusion, consistency: the tree size to prove against");
  std::string roll_file;
  app.add_option("--roll-file", roll_file,
                 "CSV roll (beneficiary_id,program_id,amount) posted once per request");
  app.add_option("--fund", fund);
  app.add_option("--tag", tag, "prefix of idempotency keys, unique per run");
  CLI11_PARSE(app, argc, argv);

  int first_year = 0, first_mon = 0;
  if (kind == "disbursement") {
    if (checker_token.empty() || people == 0 ||
        std::sscanf(first_month.c_str(), "%4d-%2d", &first_year, &first_mon) != 2 ||
        first_mon < 1 || first_mon > 12) {
      std::fprintf(
          stderr,
          "--kind disbursement needs --checker-token, --people and --first-month YYYY-MM\n");
      return 2;
    }
  }
  std::string roll;
  if (kind == "roll") {
    std::FILE* f = std::fopen(roll_file.c_str(), "rb");
    if (f == nullptr) {
      std::fprintf(stderr, "--kind roll needs --roll-file\n");
      return 2;
    }
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) roll.append(buf, n);
    std::fclose(f);
  }
  std::atomic<uint64_t> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(connections));
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      net::io_context ioc;
      beast::tcp_stream stream(ioc);
      beast::error_code ec;
      stream.connect(
          net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
          ec);
      if (ec) {
        errors++;
        return;
      }
      // Sends one request and reads its answer; false when the connection failed.
      auto exchange = [&](http::request<http::string_body>& req) {
        req.keep_alive(true);
        req.prepare_payload();
        http::write(stream, req, ec);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        if (!ec) http::read(stream, buffer, res, ec);
        if (ec) {
          errors++;
          return false;
        }
        if (res.result_int() >= 300) {
          if (errors++ == 0)
            std::fprintf(stderr, "first error: %d %s\n", res.result_int(),
                         res.body().substr(0, 300).c_str());
        }
        return true;
      };
      for (uint64_t i = 0; Clock::now() < deadline; ++i) {
        std::string key = tag + "-" + std::to_string(c) + "-" + std::to_string(i);
        if (kind == "disbursement") {
          const uint64_t idx = i * static_cast<uint64_t>(connections) + static_cast<uint64_t>(c);
          const uint64_t month = static_cast<uint64_t>(first_year) * 12 +
                                 static_cast<uint64_t>(first_mon - 1) + idx / people;
          char period[32];
          std::snprintf(period, sizeof period, "%04llu-%02llu",
                        static_cast<unsigned long long>(month / 12),
                        static_cast<unsigned long long>(month % 12 + 1));
          auto post = [&](const std::string& target, const std::string& bearer, const char* type,
                          const std::string& idem, std::string body) {
            http::request<http::string_body> req{http::verb::post, target, 11};
            req.set(http::field::host, "127.0.0.1");
            req.set(http::field::authorization, "Bearer " + bearer);
            req.set(http::field::content_type, type);
            req.set("Idempotency-Key", idem);
            req.body() = std::move(body);
            return req;
          };
          auto prepare = post(
              "/v1/disbursement-batches?batch_id=" + key + "&fund_id=" + fund + "&period=" + period,
              token, "text/csv", key,
              "beneficiary_id,program_id,amount_fen\nB" + std::to_string(idx % people) + "," +
                  program + "," + std::to_string(amount_fen) + "\n");
          auto approve = post("/v1/disbursement-batches/" + key + "/approve", checker_token,
                              "application/json", key + "-ok", "{}");
          auto start = Clock::now();
          if (!exchange(prepare) || !exchange(approve)) break;
          latencies[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - start).count());
          continue;
        }
        http::request<http::string_body> req;
        req.version(11);
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + token);
        if (kind == "checkpoint") {
          req.method(http::verb::get);
          req.target("/v1/checkpoint");
        } else if (kind == "inclusion") {
          req.method(http::verb::get);
          uint64_t index =
              (i * 7919 + static_cast<uint64_t>(c) * 104729) % std::max<uint64_t>(tree_size, 1);
          req.target("/v1/proofs/inclusion?index=" + std::to_string(index) +
                     "&size=" + std::to_string(tree_size));
        } else if (kind == "consistency") {
          req.method(http::verb::get);
          uint64_t old = 1 + (i * 7919 + static_cast<uint64_t>(c) * 104729) %
                                 std::max<uint64_t>(tree_size - 1, 1);
          req.target("/v1/proofs/consistency?old=" + std::to_string(old) +
                     "&size=" + std::to_string(tree_size));
        } else if (kind == "roll") {
          // Each request pays the same people for a month no other request uses.
          uint64_t idx = i * static_cast<uint64_t>(connections) + static_cast<uint64_t>(c);
          char period[32];
          std::snprintf(period, sizeof period, "%04llu-%02llu",
                        static_cast<unsigned long long>(2030 + idx / 12),
                        static_cast<unsigned long long>(idx % 12 + 1));
          req.method(http::verb::post);
          req.target("/v1/disbursement-batches?batch_id=" + key + "&fund_id=" + fund +
                     "&period=" + period);
          req.set(http::field::content_type, "text/csv");
          req.set("Idempotency-Key", key);
          req.body() = roll;
        } else {
          req.method(http::verb::post);
          req.target("/v1/appropriations");
          req.set(http::field::content_type, "application/json");
          req.set("Idempotency-Key", key);
          req.body() = "{\"fund_id\":\"" + fund +
                       "\",\"bucket\":\"general\",\"amount_fen\":100,\"source\":\"treasury\","
                       "\"document\":\"load\"}";
        }
        auto start = Clock::now();
        if (!exchange(req)) break;
        latencies[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
    });
  }
  auto begin = Clock::now();
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf(
      "kind=%s connections=%d requests=%zu req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f "
      "errors=%llu\n",
      kind.c_str(), connections, all.size(), static_cast<double>(all.size()) / elapsed, pct(0.5),
      pct(0.99), pct(0.999), static_cast<unsigned long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
