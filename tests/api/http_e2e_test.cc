// End to end: the real `fundledger serve` on a loopback port, driven over HTTP as finance
// staff and auditors would: a month's roll with rejected lines reported, approval by another
// person, balances, a proof verified against the signed checkpoint, a retry that does not pay
// twice, and SIGTERM in the middle of load losing nothing that was acknowledged.
#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <thread>

#include "crypto/checkpoint.h"
#include "tests/domain_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class HttpEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.Sub("city");
    CommandResult demo =
        RunCommand(CliPath() + " demo --data " + dir_ + " --people 120 --months 1 2>/dev/null");
    ASSERT_EQ(demo.exit_code, 0) << demo.out;
    tokens_ = DemoTokens(demo.out);
    ASSERT_EQ(tokens_.size(), 6u) << demo.out;
    maker_ = DemoSigner(dir_, "clerk.li", fb::Role::maker);
    checker_ = DemoSigner(dir_, "checker.wang", fb::Role::checker);
  }

  int64_t Available(HttpClient& c, const std::string& fund) {
    HttpResult r = c.Request("GET", "/v1/balances?fund_id=" + fund, tokens_["auditor"]);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("buckets").at("general").at("available_fen").to_number<int64_t>();
  }

  TempDir tmp_;
  std::string dir_;
  std::map<std::string, std::string> tokens_;
  RequestSigner maker_, checker_;  // the demo requires signed commands
};

TEST_F(HttpEndToEnd, AMonthsRollFromUploadToVerifiedProof) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  HttpClient maker(server.port()), checker(server.port()), auditor(server.port());
  // Read-only commands run beside the server.
  CommandResult people =
      RunCommand(CliPath() + " export beneficiaries --data " + dir_ + " 2>/dev/null");
  EXPECT_EQ(people.exit_code, 0) << people.out;
  EXPECT_NE(people.out.find("B000001,"), std::string::npos);

  // Who receives 低保, as the clerk's roll would list them.
  std::string roll = "受益人编号,项目,金额\n";
  std::vector<std::string> dibao;
  for (int i = 1; i <= 120 && dibao.size() < 20; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "B%06d", i);
    HttpResult b =
        auditor.Request("GET", std::string("/v1/beneficiaries/") + id, tokens_["auditor"]);
    ASSERT_EQ(b.status, 200) << b.body;
    json::object o = json::parse(b.body).as_object();
    for (const json::value& e : o.at("enrollments").as_array()) {
      if (e.at("program_id").as_string() == "dibao" && o.at("status_changes").as_array().empty()) {
        dibao.push_back(id);
        roll += std::string(id) + ",dibao,1045.00\n";
      }
    }
  }
  ASSERT_GE(dibao.size(), 10u);
  std::string with_errors = roll + "B999999,dibao,1045.00\n" + dibao[0] + ",dibao,2000.00\n";
  std::string target =
      "/v1/disbursement-batches?batch_id=ROLL-2025-02&fund_id=F-SUBSIDY&period=2025-02";
  HttpResult rejected = maker.Command(maker_, fb::EventType::DisbursementBatchPrepared, target,
                                      tokens_["maker"], with_errors, "roll-feb-v1", "text/csv");
  ASSERT_EQ(rejected.status, 422) << rejected.body;
  json::array details = json::parse(rejected.body).at("error").at("details").as_array();
  ASSERT_EQ(details.size(), 2u);
  EXPECT_EQ(details[0].at("code").as_string(), "unknown_beneficiary");
  EXPECT_EQ(details[0].at("line").to_number<uint64_t>(), dibao.size() + 2);  // header is line 1
  EXPECT_EQ(details[1].at("code").as_string(), "duplicate_payment");

  int64_t before = Available(auditor, "F-SUBSIDY");
  HttpResult prepared = maker.Command(maker_, fb::EventType::DisbursementBatchPrepared, target,
                                      tokens_["maker"], roll, "roll-feb-v2", "text/csv");
  ASSERT_EQ(prepared.status, 201) << prepared.body;
  int64_t total = json::parse(prepared.body).at("total_fen").to_number<int64_t>();
  EXPECT_EQ(total, static_cast<int64_t>(dibao.size()) * 104500);
  EXPECT_EQ(Available(auditor, "F-SUBSIDY"), before - total);  // reserved

  const std::string approve = "/v1/disbursement-batches/ROLL-2025-02/approve";
  const fb::EventType approval = fb::EventType::DisbursementBatchApproved;
  EXPECT_EQ(maker.Command(maker_, approval, approve, tokens_["maker"], "", "ok-1").status, 403);
  HttpResult approved =
      checker.Command(checker_, approval, approve, tokens_["checker"], "", "ok-1");
  ASSERT_EQ(approved.status, 201) << approved.body;
  uint64_t approval_index = json::parse(approved.body).at("first_index").to_number<uint64_t>();
  // The response says the log size after the commit; a read after it reflects at least that.
  uint64_t after = json::parse(approved.body).at("log_size").to_number<uint64_t>();
  EXPECT_EQ(approved.headers["fundledger-log-size"], std::to_string(after));
  HttpResult batch =
      auditor.Request("GET", "/v1/disbursement-batches/ROLL-2025-02", tokens_["auditor"]);
  EXPECT_GE(std::strtoull(batch.headers["fundledger-log-size"].c_str(), nullptr, 10), after);
  // A retry with the same key answers with the original entry and pays nothing more.
  HttpResult retry = checker.Command(checker_, approval, approve, tokens_["checker"], "", "ok-1");
  EXPECT_EQ(retry.status, 200);
  EXPECT_TRUE(json::parse(retry.body).at("replayed").as_bool());
  HttpResult again = maker.Command(maker_, fb::EventType::DisbursementBatchPrepared, target,
                                   tokens_["maker"], roll, "roll-feb-v2", "text/csv");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Available(auditor, "F-SUBSIDY"), before - total);
  HttpResult paid = auditor.Request("GET", "/v1/beneficiaries/" + dibao[0], tokens_["auditor"]);
  EXPECT_EQ(
      json::parse(paid.body).at("paid").at("dibao/202502").at("amount_fen").to_number<int64_t>(),
      104500);

  // The auditor checks that the approval is in the log the bureau signed.
  HttpResult note = auditor.Request("GET", "/v1/checkpoint");
  HttpResult vkey = auditor.Request("GET", "/v1/key");
  ASSERT_EQ(note.status, 200);
  Result<NoteVerifier> key = ParseVerifierKey(vkey.body.substr(0, vkey.body.find('\n')));
  ASSERT_TRUE(key.ok());
  Result<Checkpoint> cp = OpenCheckpoint(note.body, *key);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  HttpResult proof =
      auditor.Request("GET",
                      "/v1/proofs/inclusion?index=" + std::to_string(approval_index) +
                          "&size=" + std::to_string(cp->size),
                      tokens_["auditor"]);
  ASSERT_EQ(proof.status, 200) << proof.body;
  json::object p = json::parse(proof.body).as_object();
  HttpResult entry =
      auditor.Request("GET", "/v1/entries/" + std::to_string(approval_index), tokens_["auditor"]);
  Bytes raw = *Base64Decode(std::string(json::parse(entry.body).at("raw").as_string()));
  std::vector<Hash> path;
  for (const json::value& h : p.at("proof").as_array())
    path.push_back(*HashFromHex(std::string(h.as_string())));
  EXPECT_TRUE(VerifyInclusion(approval_index, cp->size, HashLeaf(raw), path, cp->root).ok());
  EXPECT_NE(entry.body.find("DisbursementBatchApproved"), std::string::npos);

  std::string output;
  EXPECT_EQ(server.Terminate(&output), 0) << output;
  EXPECT_NE(output.find("stopped cleanly"), std::string::npos) << output;
  EXPECT_EQ(RunCommand(CliPath() + " verify --data " + dir_).exit_code, 0);
}

TEST_F(HttpEndToEnd, SigtermUnderLoadLosesNothingAcknowledged) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  constexpr int kClients = 6;
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(server.port());
      for (int i = 0; !stop && i < 100'000; ++i) {
        std::string key = "load-" + std::to_string(c) + "-" + std::to_string(i);
        HttpResult r = client.Command(
            maker_, fb::EventType::Appropriated, "/v1/appropriations", tokens_["maker"],
            R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":1,"source":"treasury","document":"load"})",
            key);
        if (r.status == 201) acked[c].push_back(key);
        if (r.status == 0) break;  // the server closed: it is shutting down
      }
    });
  }
  // Let load build, then ask the server to stop while requests are in flight.
  for (int i = 0; i < 200; ++i) {
    size_t n = 0;
    for (auto& a : acked) n += a.size();
    if (n >= 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string output;
  int code = server.Terminate(&output);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("stopped cleanly"), std::string::npos) << output;

  std::set<std::string> in_log;
  std::unique_ptr<Log> log = std::move(Log::Open(dir_)).value();
  ASSERT_TRUE(log->ScanEntries(0, log->size(),
                               [&](uint64_t, ByteView bytes) {
                                 std::string key(DecodeEntry(bytes)->idempotency_key);
                                 if (key.starts_with("load-")) {
                                   EXPECT_TRUE(in_log.insert(key).second)
                                       << key << " appended twice";
                                 }
                                 return Status::Ok();
                               })
                  .ok());
  size_t total = 0;
  for (const auto& a : acked) {
    for (const std::string& key : a)
      EXPECT_TRUE(in_log.count(key)) << key << " was acknowledged but is missing";
    total += a.size();
  }
  EXPECT_GE(total, 1u);
  std::cout << "sigterm: " << total << " acknowledged appropriations, all present once; "
            << in_log.size() << " in the log\n";
}

}  // namespace
}  // namespace fundledger::testing

namespace fundledger::testing {
namespace {

// The demo requires signed commands. A client with only curl signs as README.md shows: the
// demo's key file and `fundledger sign-request` give the header; unsigned, the post is refused.
TEST_F(HttpEndToEnd, ACurlClientSignsWithTheDemosKeyFileAndSignRequest) {
  ServerProcess server(dir_);
  ASSERT_GT(server.port(), 0);
  const std::string body =
      R"({"fund_id":"F-SUBSIDY","bucket":"general","amount_fen":100,"source":"treasury","document":"d"})";
  const std::string body_file = tmp_.Sub("body.json");
  std::ofstream(body_file, std::ios::binary) << body;
  HttpClient client(server.port());
  HttpResult refused = client.Request("POST", "/v1/appropriations", tokens_["maker"], body, "c0");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("signature_required"), std::string::npos) << refused.body;
  CommandResult header = RunCommand(CliPath() + " sign-request --signing-key " + dir_ +
                                    ".keys/staff/clerk.li.key --origin demo.fundledger.local "
                                    "--role maker --event Appropriated --idempotency-key c1 "
                                    "--target /v1/appropriations --body " +
                                    body_file);
  ASSERT_EQ(header.exit_code, 0) << header.out;
  std::string signature = header.out.substr(0, header.out.find('\n'));
  HttpResult taken = client.Request("POST", "/v1/appropriations", tokens_["maker"], body, "c1",
                                    "application/json", signature);
  EXPECT_EQ(taken.status, 201) << taken.body;
}

TEST_F(HttpEndToEnd, RequestsItCannotTakeGetTheirStatusAndTheServerCarriesOn) {
  ServerProcess server(dir_, "--max-body-mib 1");
  ASSERT_GT(server.port(), 0);
  HttpClient client(server.port());
  std::string big(2 << 20, 'x');
  HttpResult r = client.Request("POST", "/v1/appropriations", tokens_["maker"], big, "big-1");
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 200);
  EXPECT_NE(r.body.find("larger than 1 MiB"), std::string::npos) << r.body.substr(0, 200);
  EXPECT_FALSE(r.headers["fundledger-log-size"].empty());  // even the server's own answers
  HttpClient again(server.port());
  EXPECT_EQ(again.Request("GET", "/healthz").status, 200);
  // A method the path does not take: 405 with the ones it does in Allow (RFC 9110 15.5.6).
  r = again.Request("DELETE", "/v1/funds/F-SUBSIDY", tokens_["admin"]);
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(r.headers["allow"], "GET");
  EXPECT_FALSE(r.headers["fundledger-log-size"].empty());
  EXPECT_EQ(again.Request("GET", "/healthz").status, 200);
}

TEST_F(HttpEndToEnd, ServesHttpsWithTheGivenCertificate) {
  std::string cert = tmp_.Sub("cert.pem"), key = tmp_.Sub("key.pem");
  CommandResult made =
      RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                 key + " -out " + cert + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  ServerProcess server(dir_, "--tls-cert " + cert + " --tls-key " + key);
  ASSERT_GT(server.port(), 0);
  CommandResult https =
      RunCommand("openssl s_client -connect 127.0.0.1:" + std::to_string(server.port()) +
                 " -quiet -ign_eof 2>/dev/null <<'EOF'\nGET /healthz HTTP/1.1\r\nHost: "
                 "x\r\nConnection: close\r\n\r\nEOF");
  EXPECT_NE(https.out.find("HTTP/1.1 200"), std::string::npos) << https.out;
  EXPECT_NE(https.out.find("\"status\":\"ok\""), std::string::npos) << https.out;
  // Plain HTTP to the TLS port gets nothing useful.
  HttpClient plain(server.port());
  EXPECT_NE(plain.Request("GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace fundledger::testing
