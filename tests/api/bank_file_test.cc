// Banks (一卡通): an approved roll's payment file with names and accounts from the vault, each
// export a command (a POST, signed on a signing ledger) recorded before the file is answered
// (who, batch, layout, the file's SHA-256, no personal data); layouts per bank
// from the data directory; the bank's return file recorded in one submission, or every problem
// of every row reported at once; the same return file again recognised.
#include <boost/json.hpp>
#include <fstream>

#include "api/service.h"
#include "crypto/sha256.h"
#include "ledger/entry_codec.h"
#include "replay/chain_verifier.h"
#include "tests/domain_fixture.h"
#include "tests/http_client.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class BankFileTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    std::vector<RollLine> lines;
    for (uint32_t i = 1; i <= 4; ++i) {
      std::string id = "B" + std::to_string(i);
      Register(id, "110105", 196001, static_cast<int>(i));
      Enroll(id, "dibao", 104500);
      person_[i] = *ledger_->ReadPersonalData(id);
      lines.push_back({i, id, "dibao", 202503, 104500});
    }
    Appropriate("F1", "general", 100'000'000);
    Ok(Prepare("R1", "F1", "general", 202503, lines));
    Ok(Approve("R1"));
    Ok(Prepare("R2", "F1", "general", 202504, {{1, "B1", "dibao", 202504, 104500}}));
    tokens_ = std::make_unique<TokenStore>(dir_);
    for (const char* role : {"maker", "checker", "auditor"})
      token_[role] = *tokens_->Add(std::string("t.") + role, role, "");
    ServiceOptions options;
    options.data_dir = dir_;
    service_ = std::make_unique<Service>(*ledger_, *projections_, *tokens_, metrics_, options);
  }

  HttpResponse Export(const std::string& batch, const std::string& role = "maker",
                      const std::string& query = "", const std::string& key = "export-1",
                      const RequestSigner* signer = nullptr) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/disbursement-batches/" + batch + "/bank-file-exports" + query;
    r.authorization = "Bearer " + token_.at(role);
    r.idempotency_key = key;
    if (signer != nullptr)
      r.signature = signer->Header(fb::EventType::Memo, key, r.method, r.target, r.body);
    return service_->Handle(r);
  }

  HttpResponse Return(const std::string& body, const std::string& key,
                      const std::string& language = "") {
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/disbursement-batches/R1/bank-returns";
    r.authorization = "Bearer " + token_.at("maker");
    r.idempotency_key = key;
    r.content_type = "text/csv";
    r.accept_language = language;
    r.body = body;
    return service_->Handle(r);
  }

  std::string LineState(uint32_t line) {
    return ledger_->domain().Read([&](const DomainState& s) {
      const BatchState& b = s.batches.at("R1");
      return std::string(LineStateName(b.FindLine(line)->state));
    });
  }

  std::map<uint32_t, PersonalData> person_;
  std::unique_ptr<TokenStore> tokens_;
  Metrics metrics_;
  std::unique_ptr<Service> service_;
  std::map<std::string, std::string> token_;
};

TEST_F(BankFileTest, TheFileHoldsNamesAccountsAndAmountsAndItsExportIsRecorded) {
  uint64_t before = ledger_->log().size();
  HttpResponse r = Export("R1");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  std::string expected = "序号,收款人姓名,收款账号,金额(元),参考号\r\n";
  for (uint32_t i = 1; i <= 4; ++i) {
    expected += std::to_string(i) + "," + person_[i].name + "," + person_[i].bank_account +
                ",1045.00,R1-" + std::to_string(i) + "\r\n";
  }
  EXPECT_EQ(r.body, expected);

  ASSERT_EQ(ledger_->log().size(), before + 1);
  Result<Bytes> bytes = ledger_->log().ReadEntry(before);
  ASSERT_TRUE(bytes.ok());
  EntryView e = *DecodeEntry(*bytes);
  EXPECT_EQ(e.event_type, fb::EventType::Memo);
  EXPECT_EQ(e.actor, "t.maker");
  MemoView memo = *DecodeMemo(e.payload);
  std::string sha = HashHex(Sha256::Digest(AsBytes(r.body)));
  EXPECT_EQ(std::string(memo.text),
            "bank file exported: batch=R1 layout=default lines=4 erased=0 "
            "sha256=" +
                sha);
  EXPECT_EQ(std::string(memo.reference), "bank-file:R1");
  std::string entry(AsChars(*bytes));
  for (const auto& [line, p] : person_) {
    EXPECT_EQ(entry.find(p.name), std::string::npos) << "a name in the log";
    EXPECT_EQ(entry.find(p.bank_account), std::string::npos) << "an account in the log";
  }
}

TEST_F(BankFileTest, OnlyFinanceStaffExportAndOnlyAnApprovedBatch) {
  uint64_t before = ledger_->log().size();
  EXPECT_EQ(Export("R1", "auditor").status, 403);
  EXPECT_EQ(Export("R1", "checker").status, 403);
  HttpResponse prepared = Export("R2");
  EXPECT_EQ(prepared.status, 409) << prepared.body;
  EXPECT_NE(prepared.body.find("only an approved batch"), std::string::npos);
  EXPECT_EQ(Export("NOPE").status, 404);
  EXPECT_EQ(ledger_->log().size(), before) << "a refused export records nothing";
  HttpRequest get;  // a read never records: the file is not served by a GET
  get.method = "GET";
  get.target = "/v1/disbursement-batches/R1/bank-file";
  get.authorization = "Bearer " + token_.at("maker");
  EXPECT_EQ(service_->Handle(get).status, 404);
  get.target = "/v1/disbursement-batches/R1/bank-file-exports";
  EXPECT_EQ(service_->Handle(get).status, 405);
  EXPECT_EQ(ledger_->log().size(), before);
}

// On a ledger that requires signing the export is signed like any command: unsigned, it is
// refused and no file is answered; signed, the Memo entry carries the maker's signature and the
// log verifies; the same request again answers the file without a second entry.
TEST_F(BankFileTest, OnASigningLedgerOnlyASignedExportIsAnswered) {
  Ed25519PrivateKey admin_key = Ed25519PrivateKey::Generate();
  Actor admin{"admin.zhao", fb::Role::admin,
              std::make_shared<const ActorSigningKey>(
                  ActorSigningKey{ActorKeyId(admin_key.public_key()), admin_key})};
  Ok(ledger_->RegisterKey(Actor{"admin.zhao", fb::Role::admin}, "key-admin", "admin.zhao",
                          {fb::Role::admin}, admin_key.public_key(), "d"));
  RequestSigner maker{ledger_->log().origin(), "t.maker", fb::Role::maker};
  Ok(ledger_->RegisterKey(admin, "key-maker", "t.maker", {fb::Role::maker}, maker.key.public_key(),
                          "d"));
  Ok(ledger_->RequireSigning(admin, "signing-on", "d"));
  const uint64_t before = ledger_->log().size();

  HttpResponse refused = Export("R1", "maker", "", "export-unsigned");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("signature_required"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find(person_[1].bank_account), std::string::npos) << "no file";
  EXPECT_EQ(ledger_->log().size(), before);

  HttpResponse r = Export("R1", "maker", "?layout=default", "export-signed", &maker);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(person_[1].bank_account), std::string::npos);
  ASSERT_EQ(ledger_->log().size(), before + 1);
  const Bytes stored = *ledger_->log().ReadEntry(before);  // the view reads into these bytes
  EntryView e = *DecodeEntry(stored);
  EXPECT_EQ(e.event_type, fb::EventType::Memo);
  EXPECT_NE(e.signature, nullptr) << "the export's entry carries the maker's signature";
  HttpResponse again = Export("R1", "maker", "?layout=default", "export-signed", &maker);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body, r.body);
  EXPECT_EQ(ledger_->log().size(), before + 1);

  VerifyReport verified = VerifyChain(ledger_->log(), {});
  EXPECT_TRUE(verified.valid) << verified.bad_index << ": " << verified.reason;
}

TEST_F(BankFileTest, AnErasedPersonsLineSaysSoWithoutNameOrAccount) {
  Ok(ledger_->Erase(kAdmin, "erase-B2", "B2", "request of the person"));
  HttpResponse r = Export("R1");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("\r\n2,已删除(erased),,1045.00,R1-2\r\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(person_[2].bank_account), std::string::npos);
  EXPECT_NE(r.body.find(person_[1].bank_account), std::string::npos);
}

TEST_F(BankFileTest, ABanksOwnLayoutFromTheDataDirectory) {
  std::ofstream(dir_ + "/bank-layouts.json")
      << R"({"layouts": [{"name": "icbc", "encoding": "GBK", "separator": "|", "header": false,
             "amount": "fen", "columns": [{"field": "account", "header": "账号"},
             {"field": "name", "header": "户名"}, {"field": "amount", "header": "金额"},
             {"field": "reference", "header": "摘要"}]}]})";
  HttpResponse r = Export("R1", "maker", "?layout=icbc");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=GBK");
  // 张三明 in GBK
  std::string first = person_[1].bank_account + "|\xD5\xC5\xC8\xFD\xC3\xF7|104500|R1-1\r\n";
  EXPECT_EQ(r.body.substr(0, first.size()), first);
  HttpResponse unknown = Export("R1", "maker", "?layout=boc");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("icbc"), std::string::npos) << "names the layouts there are";
}

TEST_F(BankFileTest, AReturnFileWithBadLinesReportsEveryLineAndRecordsNothing) {
  uint64_t before = ledger_->log().size();
  std::string file =
      std::string("参考号,收款账号,金额(元),状态,失败原因\n") +         // row 1
      "R1-1," + person_[1].bank_account + ",1045.00,成功,\n" +          // row 2: fine
      "R1-2," + person_[2].bank_account + ",1000.00,失败,户名不符\n" +  // row 3: amount
      "R1-3,6222000000000000,1045.00,失败,账户冻结\n" +                 // row 4: account
      "R1-9," + person_[4].bank_account + ",1045.00,失败,销户\n" +      // row 5: no such line
      "R1-4," + person_[4].bank_account + ",1045.00,不知道,\n" +        // row 6: status
      "R9-1," + person_[4].bank_account + ",1045.00,失败,\n";           // row 7: batch, reason
  HttpResponse r = Return(file, "ret-1", "zh-CN");
  ASSERT_EQ(r.status, 422) << r.body;
  json::object e = json::parse(r.body).as_object()["error"].as_object();
  std::set<std::pair<int64_t, std::string>> seen;
  for (const json::value& d : e["details"].as_array()) {
    seen.insert({d.at("line").as_int64(), std::string(d.at("field").as_string())});
  }
  std::set<std::pair<int64_t, std::string>> expected{{3, "amount"},    {4, "account"},
                                                     {5, "reference"}, {6, "status"},
                                                     {7, "reference"}, {7, "reason"}};
  EXPECT_EQ(seen, expected) << r.body;
  EXPECT_NE(std::string(e["message"].as_string()).find("第一个：第 3 行"), std::string::npos);
  std::string report = std::string(e["report"].as_string());
  HttpRequest get;
  get.method = "GET";
  get.target = report;
  get.authorization = "Bearer " + token_.at("maker");
  HttpResponse csv = service_->Handle(get);
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("\r\n6,status,"), std::string::npos) << csv.body;
  EXPECT_EQ(ledger_->log().size(), before);
  EXPECT_EQ(LineState(2), "paid");
}

TEST_F(BankFileTest, AGoodReturnFileIsRecordedInOneSubmissionAndRecognisedAgain) {
  std::string file = std::string("参考号,收款账号,金额(元),状态,失败原因\n") + "R1-1," +
                     person_[1].bank_account + ",1045.00,成功,\n" + "R1-2," +
                     person_[2].bank_account + ",\"1,045.00\",失败,户名不符\n" + "R1-3," +
                     person_[3].bank_account + ",1045.00,退回,账户冻结\n" + "R1-4," +
                     person_[4].bank_account + ",1045.00,成功,\n";
  uint64_t before = ledger_->log().size();
  HttpResponse r = Return(file, "ret-1");
  ASSERT_EQ(r.status, 201) << r.body;
  json::object answer = json::parse(r.body).as_object();
  EXPECT_EQ(answer["first_index"].to_number<uint64_t>(), before);
  EXPECT_EQ(answer["count"].to_number<uint64_t>(), 2u);
  EXPECT_EQ(answer["returned"].to_number<uint64_t>(), 2u);
  EXPECT_EQ(answer["paid_rows"].to_number<uint64_t>(), 2u);
  EXPECT_EQ(ledger_->log().size(), before + 2);
  EXPECT_EQ(LineState(1), "paid");
  EXPECT_EQ(LineState(2), "returned");
  EXPECT_EQ(LineState(3), "returned");
  for (uint64_t i = before; i < before + 2; ++i) {      // one commit: one idempotency key
    const Bytes stored = *ledger_->log().ReadEntry(i);  // the view reads into these bytes
    EntryView e = *DecodeEntry(stored);
    EXPECT_EQ(e.event_type, fb::EventType::PaymentReturned);
    EXPECT_EQ(e.idempotency_key, "ret-1");
  }

  HttpResponse again = Return(file, "ret-2");  // the same file, uploaded again
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(json::parse(again.body).as_object()["already_recorded"].as_bool());
  EXPECT_EQ(ledger_->log().size(), before + 2) << "recorded twice";
}

}  // namespace
}  // namespace fundledger::testing
