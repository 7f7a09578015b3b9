// Lookups and the auditor's corner as clients see them: a person found by name (masked, the
// search recorded without what was searched for, an erased person never found), a payment
// history, one payment proved against the signed checkpoint and checked here with the
// project's own verifier, and the anomaly findings.
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/demo.h"
#include "api/service.h"
#include "crypto/checkpoint.h"
#include "crypto/encoding.h"
#include "crypto/merkle.h"
#include "ledger/entry_codec.h"
#include "projections/disclosure.h"
#include "replay/anomaly_checks.h"
#include "replay/bundle.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class LookupTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    DemoOptions demo;
    demo.people = 30;
    demo.months = 2;
    demo.require_signing = false;
    ASSERT_TRUE(GenerateDemoCity(*ledger_, demo).ok());
    tokens_ = std::make_unique<TokenStore>(dir_);
    for (const char* role : {"admin", "maker", "checker", "auditor"})
      token_[role] = *tokens_->Add(std::string("t.") + role, role, "");
    ServiceOptions options;
    options.data_dir = dir_;
    service_ = std::make_unique<Service>(*ledger_, *projections_, *tokens_, metrics_, options);
  }

  HttpResponse Get(const std::string& target, const std::string& role,
                   const std::string& accept_language = "") {
    HttpRequest r;
    r.method = "GET";
    r.target = target;
    r.accept_language = accept_language;
    r.authorization = "Bearer " + token_.at(role);
    return service_->Handle(r);
  }

  std::string AccessLogText() const {
    std::ifstream in(dir_ + "/access.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // A person, month and program the demo paid, from the person's payment history.
  json::object PaidPayment(const std::string& person) {
    HttpResponse r = Get("/v1/beneficiaries/" + person + "/payments", "auditor");
    EXPECT_EQ(r.status, 200) << r.body;
    const json::value body = json::parse(r.body);
    for (const json::value& p : body.at("payments").as_array()) {
      if (p.as_object().contains("approved_index")) return p.as_object();
    }
    ADD_FAILURE() << person << " has no approved payment: " << r.body;
    return {};
  }

  std::unique_ptr<TokenStore> tokens_;
  Metrics metrics_;
  std::unique_ptr<Service> service_;
  std::map<std::string, std::string> token_;
};

std::string UrlEncoded(std::string_view text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch)) {
      out += static_cast<char>(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

TEST_F(LookupTest, ASearchByNameFindsThePersonMaskedAndIsRecordedWithoutTheName) {
  PersonalData person = *ledger_->ReadPersonalData("B000003");
  HttpResponse r = Get("/v1/beneficiaries?q=" + UrlEncoded(person.name), "maker");
  ASSERT_EQ(r.status, 200) << r.body;
  bool found = false;
  const json::value body = json::parse(r.body);
  for (const json::value& row : body.at("beneficiaries").as_array()) {
    if (row.at("beneficiary_id").as_string() != "B000003") continue;
    found = true;
    EXPECT_EQ(row.at("name_masked").as_string(), MaskName(person.name));
    std::string id_masked(row.at("id_number_masked").as_string());
    EXPECT_EQ(id_masked.substr(0, 4), person.id_number.substr(0, 4));
    EXPECT_EQ(id_masked.substr(4, 10), std::string(10, '*'));
    EXPECT_EQ(id_masked.substr(14), person.id_number.substr(14));
  }
  EXPECT_TRUE(found) << r.body;
  EXPECT_EQ(r.body.find(person.name), std::string::npos) << "the full name is never sent";
  EXPECT_EQ(r.body.find(person.id_number), std::string::npos);

  std::string recorded = AccessLogText();
  ASSERT_FALSE(recorded.empty());
  json::object line = json::parse(recorded.substr(0, recorded.find('\n'))).as_object();
  EXPECT_EQ(line.at("actor").as_string(), "t.maker");
  EXPECT_EQ(line.at("search").as_string(), "name");
  EXPECT_GE(line.at("results").as_int64(), 1);
  EXPECT_EQ(recorded.find(person.name), std::string::npos) << "no personal data in the record";

  // The auditor reads the record, never the people.
  EXPECT_EQ(Get("/v1/beneficiaries?q=" + UrlEncoded(person.name), "auditor").status, 403);
  HttpResponse log = Get("/v1/access-log", "auditor");
  ASSERT_EQ(log.status, 200) << log.body;
  EXPECT_NE(log.body.find("\"search\":\"name\""), std::string::npos) << log.body;
}

TEST_F(LookupTest, ASearchByIdNumberIsRecordedToo) {
  PersonalData person = *ledger_->ReadPersonalData("B000004");
  HttpResponse r = Get("/v1/beneficiaries?id_number=" + person.id_number, "checker");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("beneficiaries").at(0).at("beneficiary_id").as_string(),
            "B000004");
  EXPECT_NE(AccessLogText().find("\"search\":\"id_number\",\"results\":1"), std::string::npos)
      << AccessLogText();
  EXPECT_EQ(AccessLogText().find(person.id_number), std::string::npos);
}

TEST_F(LookupTest, AnErasedPersonIsNotFoundByNameOrNumber) {
  PersonalData person = *ledger_->ReadPersonalData("B000005");
  Ok(ledger_->Erase(kAdmin, "erase-5", "B000005", "the person asked to be forgotten"));
  HttpResponse by_name = Get("/v1/beneficiaries?q=" + UrlEncoded(person.name), "admin");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(by_name.body.find("B000005"), std::string::npos) << by_name.body;
  HttpResponse by_number = Get("/v1/beneficiaries?id_number=" + person.id_number, "admin");
  ASSERT_EQ(by_number.status, 200) << by_number.body;
  EXPECT_EQ(by_number.body.find("B000005"), std::string::npos) << by_number.body;
}

TEST_F(LookupTest, AOneCharacterNameIsRefused) {
  HttpResponse r = Get("/v1/beneficiaries?q=" + UrlEncoded("张"), "maker");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body).at("error").at("field").as_string(), "q");
  EXPECT_TRUE(AccessLogText().empty()) << "a refused search finds no one";
}

TEST_F(LookupTest, APaymentHistoryIsPaged) {
  HttpResponse all = Get("/v1/beneficiaries/B000001/payments", "checker");
  ASSERT_EQ(all.status, 200) << all.body;
  json::object body = json::parse(all.body).as_object();
  const uint64_t total = body.at("total").to_number<uint64_t>();
  ASSERT_GE(total, 2u) << all.body;
  HttpResponse first = Get("/v1/beneficiaries/B000001/payments?count=1", "checker");
  json::object page = json::parse(first.body).as_object();
  ASSERT_EQ(page.at("payments").as_array().size(), 1u);
  EXPECT_EQ(page.at("next").to_number<uint64_t>(), 1u);
  EXPECT_EQ(page.at("payments").at(0), body.at("payments").at(0));
  HttpResponse last =
      Get("/v1/beneficiaries/B000001/payments?start=" + std::to_string(total - 1) + "&count=100",
          "checker");
  EXPECT_TRUE(json::parse(last.body).at("next").is_null()) << last.body;
}

TEST_F(LookupTest, APaymentIsProvedAgainstTheSignedCheckpoint) {
  json::object paid = PaidPayment("B000002");
  const std::string period(paid.at("period").as_string());
  const std::string program(paid.at("program_id").as_string());
  HttpResponse r =
      Get("/v1/payment-proofs?beneficiary_id=B000002&period=" + period + "&program_id=" + program,
          "auditor");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object proof = json::parse(r.body).as_object();

  Result<Checkpoint> cp =
      OpenCheckpoint(proof.at("checkpoint").as_string(), ledger_->log().verifier());
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  for (const char* part : {"entry", "approval"}) {
    const json::object& e = proof.at(part).as_object();
    Bytes raw = *Base64Decode(e.at("raw").as_string());
    Hash leaf = HashLeaf(raw);
    std::vector<Hash> path;
    for (const json::value& h : e.at("proof").as_array()) {
      Bytes b = *HexDecode(h.as_string());
      Hash node;
      std::copy(b.begin(), b.end(), node.begin());
      path.push_back(node);
    }
    EXPECT_TRUE(
        VerifyInclusion(e.at("index").to_number<uint64_t>(), cp->size, leaf, path, cp->root).ok())
        << part;
  }
  // The entry's bytes hold the line: person, program, month and amount.
  Bytes raw = *Base64Decode(proof.at("entry").at("raw").as_string());
  EntryView e = *DecodeEntry(raw);
  ASSERT_EQ(e.event_type, fb::EventType::DisbursementBatchPrepared);
  auto* roll = flatbuffers::GetRoot<fb::DisbursementBatchPrepared>(e.payload.data());
  const uint64_t line_no = proof.at("payment").at("line_no").to_number<uint64_t>();
  bool found = false;
  for (const fb::DisbursementLine* l : *roll->lines()) {
    if (l->line_no() != line_no) continue;
    found = true;
    EXPECT_EQ(roll->beneficiary_ids()->Get(l->beneficiary())->str(), "B000002");
    EXPECT_EQ(roll->program_ids()->Get(l->program())->str(), program);
    EXPECT_EQ(FormatMonth(l->period()), period);
    EXPECT_EQ(l->amount_fen(), proof.at("payment").at("amount_fen").as_int64());
  }
  EXPECT_TRUE(found);
  // One flipped byte of the entry is another leaf: the proof no longer holds.
  const Hash before = HashLeaf(raw);
  raw[raw.size() / 2] ^= 1;
  EXPECT_NE(HashLeaf(raw), before);
}

TEST_F(LookupTest, AMissingPaymentIsNamedClearly) {
  HttpResponse r = Get("/v1/payment-proofs?beneficiary_id=B000002&period=2031-07", "auditor");
  ASSERT_EQ(r.status, 404) << r.body;
  json::object error = json::parse(r.body).at("error").as_object();
  EXPECT_EQ(error.at("field").as_string(), "period");
  std::string message(error.at("message").as_string());
  EXPECT_NE(message.find("B000002"), std::string::npos) << message;
  EXPECT_NE(message.find("2031-07"), std::string::npos) << message;
  HttpResponse zh =
      Get("/v1/payment-proofs?beneficiary_id=B000002&period=2031-07", "auditor", "zh-CN,zh;q=0.9");
  std::string zh_message(json::parse(zh.body).at("error").at("message").as_string());
  EXPECT_EQ(zh_message.rfind("日志中没有这个人这个月的发放", 0), 0u) << zh_message;
  EXPECT_EQ(json::parse(zh.body).at("error").at("code").as_string(), "not_found");
  HttpResponse nobody = Get("/v1/payment-proofs?beneficiary_id=NOBODY&period=2031-07", "auditor");
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  EXPECT_EQ(json::parse(nobody.body).at("error").at("field").as_string(), "beneficiary_id");
}

TEST_F(LookupTest, TheAnomalyListIsWhatTheChecksFindWithTheirEntries) {
  HttpResponse r = Get("/v1/anomalies?idle_days=1", "auditor");
  ASSERT_EQ(r.status, 200) << r.body;
  json::object body = json::parse(r.body).as_object();
  AnomalyOptions options;
  options.idle_days = 1;
  std::vector<Finding> expected = *RunAnomalyChecks(ledger_->log(), options);
  ASSERT_FALSE(expected.empty()) << "an idle threshold of one day finds the demo's idle buckets";
  ASSERT_EQ(body.at("total").to_number<size_t>(), expected.size());
  const json::array& findings = body.at("findings").as_array();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(findings[i].at("check").as_string(), expected[i].check);
    EXPECT_EQ(findings[i].at("subject").as_string(), expected[i].subject);
    EXPECT_EQ(findings[i].at("entries").as_array().size(), expected[i].entries.size());
  }
  EXPECT_EQ(Get("/v1/anomalies", "maker").status, 403);
  EXPECT_EQ(Get("/v1/anomalies?as_of=nonsense", "auditor").status, 400);
}

TEST_F(LookupTest, TheAuditBundleDownloadsAsATarThatVerifies) {
  HttpResponse r = Get("/v1/audit-bundle", "auditor");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(r.content_type, "application/x-tar");
  const std::string tar = dir_ + "/bundle.tar", out = dir_ + "/bundle";
  std::ofstream(tar, std::ios::binary) << r.body;
  std::filesystem::create_directories(out);
  ASSERT_EQ(std::system(("tar -xf " + tar + " -C " + out).c_str()), 0);
  BundleVerifyOptions options;
  options.trusted_key = ledger_->log().verifier();
  BundleVerifyReport report = VerifyBundle(out, options);
  EXPECT_EQ(report.status, VerifyStatus::kValid) << report.reason;
  EXPECT_EQ(report.to, *r.log_size);
  EXPECT_EQ(report.from, 0u);
  EXPECT_EQ(Get("/v1/audit-bundle", "maker").status, 403);
  for (const auto& file : std::filesystem::directory_iterator(dir_))
    EXPECT_NE(file.path().filename().string().rfind("audit-bundle.", 0), 0u)
        << "the server's working copy is removed: " << file.path();
}

}  // namespace
}  // namespace fundledger::testing
