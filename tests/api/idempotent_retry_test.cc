// A client that lost the answer to a command (a timeout, a node or a primary that died after the
// commit) sends it again with the same Idempotency-Key: the retry gets the original result,
// `replayed`, and appends nothing, even where the command's own checks would now refuse it (its
// people registered, its lines returned); the key sent with another request is a 409 conflict.
#include <boost/json.hpp>

#include "api/service.h"
#include "tests/api/service_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class IdempotentRetryTest : public ServiceFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenFund("F1", fb::FundKind::subsidy, {"dibao"});
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    for (int i = 1; i <= 3; ++i) {
      std::string id = "B" + std::to_string(i);
      Register(id, "110105", 196001, i);
      Enroll(id, "dibao", 104500);
      person_[i] = *ledger_->ReadPersonalData(id);
    }
    Appropriate("F1", "general", 100'000'000);
    StartService({{"maker", "t.maker", "maker"}, {"checker", "t.checker", "checker"}});
  }

  HttpResponse Post(const std::string& target, const std::string& body, const std::string& key,
                    const std::string& who = "maker", const std::string& type = "text/csv") {
    return CallWithKey(target, who, body, key, type);
  }

  HttpResponse Roll(const std::string& csv, const std::string& key) {
    return Post("/v1/disbursement-batches?fund_id=F1&period=2025-03&batch_id=R1", csv, key);
  }

  // The roll by ID number, one line per person in `people`.
  std::string RollCsv(const std::vector<int>& people) {
    std::string csv = "序号,身份证号,项目,金额\n";
    for (size_t k = 0; k < people.size(); ++k)
      csv += std::to_string(k + 1) + "," + person_[people[k]].id_number + ",低保,1045.00\n";
    return csv;
  }

  // The committed result and the retry's agree on where the entries are; the retry is marked.
  static void ExpectReplayOf(const HttpResponse& first, const HttpResponse& retry) {
    ASSERT_EQ(retry.status, 200) << retry.body;
    json::object a = json::parse(first.body).as_object(), b = json::parse(retry.body).as_object();
    EXPECT_TRUE(b.at("replayed").as_bool());
    EXPECT_EQ(b.at("first_index"), a.at("first_index"));
    EXPECT_EQ(b.at("count"), a.at("count"));
  }

  // ... and for a roll, the original batch R1 with its lines and total.
  static void ExpectRollReplayOf(const HttpResponse& first, const HttpResponse& retry) {
    ExpectReplayOf(first, retry);
    json::object a = json::parse(first.body).as_object(), b = json::parse(retry.body).as_object();
    EXPECT_EQ(b.at("batch_id").as_string(), "R1");
    EXPECT_EQ(b.at("lines"), a.at("lines"));
    EXPECT_EQ(b.at("total_fen"), a.at("total_fen"));
  }

  static void ExpectKeyConflict(const HttpResponse& r) {
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.body.find("idempotency_key"), std::string::npos) << r.body;
  }

  std::map<int, PersonalData> person_;
};

TEST_F(IdempotentRetryTest, ARetriedRollAnswersTheOriginalBatchAndAppendsNothing) {
  HttpResponse first = Roll(RollCsv({1, 2, 3}), "roll-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t size = ledger_->log().size();
  ExpectRollReplayOf(first, Roll(RollCsv({1, 2, 3}), "roll-1"));
  EXPECT_EQ(ledger_->log().size(), size) << "the retry appended";

  ASSERT_TRUE(Approve("R1").ok());  // paid now: the same roll again would pay twice
  ExpectReplayOf(first, Roll(RollCsv({1, 2, 3}), "roll-1"));
  EXPECT_EQ(ledger_->log().size(), size + 1);
}

TEST_F(IdempotentRetryTest, ARollKeyReusedWithAnotherRollIsAConflictNotTheRollsProblems) {
  ASSERT_EQ(Roll(RollCsv({1, 2}), "roll-1").status, 201);
  const uint64_t size = ledger_->log().size();
  ExpectKeyConflict(Roll(RollCsv({1, 2, 3}), "roll-1"));  // a line more
  std::string unknown = RollCsv({1, 2}) + "3," + MakeIdNumber("110105", 19600115, 9) +
                        ",低保,1045.00\n";  // a line whose person is not registered
  ExpectKeyConflict(Roll(unknown, "roll-1"));
  EXPECT_EQ(ledger_->log().size(), size);
}

// A person in the roll is erased before the retry: the row no longer resolves, but the batch the
// key prepared is this roll's (same batch, fund, month, lines and total), so the retry is still
// answered as one; a different roll under the key is still a conflict.
TEST_F(IdempotentRetryTest, ARollRetriedAfterOneOfItsPeopleWasErasedIsReplayed) {
  HttpResponse first = Roll(RollCsv({1, 2, 3}), "roll-1");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_TRUE(ledger_->Erase(kAdmin, "erase-B2", "B2", "the person asked to be forgotten").ok());
  const uint64_t size = ledger_->log().size();

  ExpectRollReplayOf(first, Roll(RollCsv({1, 2, 3}), "roll-1"));
  EXPECT_EQ(ledger_->log().size(), size) << "the retry appended";

  std::string more = RollCsv({1, 2, 3}) + "4," + person_[1].id_number + ",低保,1045.00\n";
  ExpectKeyConflict(Roll(more, "roll-1"));  // a line more
  std::string dearer = RollCsv({1, 2, 3});
  dearer.replace(dearer.rfind("1045.00"), 7, "1000.00");
  ExpectKeyConflict(Roll(dearer, "roll-1"));  // another total
  ExpectKeyConflict(Post("/v1/disbursement-batches?fund_id=F1&period=2025-04&batch_id=R1",
                         RollCsv({1, 2, 3}), "roll-1"));  // another month
  EXPECT_EQ(ledger_->log().size(), size);
}

TEST_F(IdempotentRetryTest, ARetriedReturnFileAnswersTheOriginalEntriesAsReplayed) {
  std::vector<RollLine> lines;
  for (uint32_t i = 1; i <= 3; ++i)
    lines.push_back({i, "B" + std::to_string(i), "dibao", 202503, 104500});
  ASSERT_TRUE(Prepare("R1", "F1", "general", 202503, lines).ok());
  ASSERT_TRUE(Approve("R1").ok());
  std::string file =
      "参考号,收款账号,金额(元),状态,失败原因\n"
      "R1-1," +
      person_[1].bank_account +
      ",1045.00,成功,\n"
      "R1-2," +
      person_[2].bank_account +
      ",1045.00,失败,户名不符\n"
      "R1-3," +
      person_[3].bank_account + ",1045.00,退回,账户冻结\n";
  const std::string target = "/v1/disbursement-batches/R1/bank-returns";
  HttpResponse first = Post(target, file, "ret-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t size = ledger_->log().size();
  HttpResponse retry = Post(target, file, "ret-1");
  ExpectReplayOf(first, retry);
  json::object b = json::parse(retry.body).as_object();
  EXPECT_EQ(b.at("returned").to_number<uint64_t>(), 2u);
  EXPECT_TRUE(b.at("already_recorded").as_bool());  // by this key's own entries
  EXPECT_EQ(ledger_->log().size(), size);

  std::string other = file.substr(0, file.rfind("R1-3"));  // line 3 not in it
  ExpectKeyConflict(Post(target, other, "ret-1"));
  EXPECT_EQ(ledger_->log().size(), size);
  HttpResponse again = Post(target, file, "ret-2");  // the same file under a new key
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(json::parse(again.body).as_object().at("already_recorded").as_bool());
}

TEST_F(IdempotentRetryTest, ARetriedRegistrationIsNotADuplicatePerson) {
  std::string person = R"({"name":"周小梅","id_number":")" + MakeIdNumber("320102", 19500512, 7) +
                       R"(","bank_account":"6217000011112222","phone":"13900001111"})";
  auto body = [&](const std::string& id, const std::string& who) {
    return R"({"beneficiary_id":")" + id + R"(","household_id":"H-NEW","region_code":"320102",)" +
           R"("birth_month":195005,"registered_date":20250301,"person":)" + who + "}";
  };
  HttpResponse first =
      Post("/v1/beneficiaries", body("B-NEW", person), "reg-new", "maker", "application/json");
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t size = ledger_->log().size();
  ExpectReplayOf(first, Post("/v1/beneficiaries", body("B-NEW", person), "reg-new", "maker",
                             "application/json"));
  ExpectKeyConflict(
      Post("/v1/beneficiaries", body("B-OTHER", person), "reg-new", "maker", "application/json"));
  EXPECT_EQ(ledger_->log().size(), size);
  HttpResponse duplicate =
      Post("/v1/beneficiaries", body("B-OTHER", person), "reg-other", "maker", "application/json");
  EXPECT_EQ(duplicate.status, 422) << duplicate.body;  // a new key: the person is known
}

TEST_F(IdempotentRetryTest, ARetriedApprovalIsReplayedAfterTheBatchIsApproved) {
  ASSERT_EQ(Roll(RollCsv({1, 2}), "roll-1").status, 201);
  const std::string target = "/v1/disbursement-batches/R1/approve";
  const std::string doc = R"({"document":"approval 7"})";
  HttpResponse first = Post(target, doc, "approve-1", "checker", "application/json");
  ASSERT_EQ(first.status, 201) << first.body;
  const uint64_t size = ledger_->log().size();
  ExpectReplayOf(first, Post(target, doc, "approve-1", "checker", "application/json"));
  ExpectKeyConflict(
      Post(target, R"({"document":"approval 8"})", "approve-1", "checker", "application/json"));
  EXPECT_EQ(ledger_->log().size(), size);
}

}  // namespace
}  // namespace fundledger::testing
