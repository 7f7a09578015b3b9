// The checker's view of a roll through the API: totals by program and by region that add up to
// the roll, the change from the previous month's approved roll of the same fund (people added
// and dropped, amounts changed) on a constructed pair of rolls, the printable approval sheet
// with those figures, why a maker cannot decide their own roll, and no rejection without a
// reason.
#include "api/batch_review.h"

#include <boost/json.hpp>

#include "api/disclosure_render.h"
#include "api/service.h"
#include "api/shared_file.h"
#include "tests/api/service_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

class BatchReviewTest : public ServiceFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenFund("F1", fb::FundKind::subsidy, {"dibao", "tekun"});
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    DefineProgram("tekun", fb::ProgramCategory::tekun, 146300, 146300);
    for (const char* id : {"B1", "B2", "B3"}) Register(id, "110105");
    Register("B4", "110106");
    for (const char* id : {"B1", "B2", "B3", "B4"}) Enroll(id, "dibao", 104500);
    Enroll("B4", "tekun", 146300);
    Appropriate("F1", "general", 100'000'000);
    // March: B1, B2, B3 at the standard, approved.
    Ok(Prepare("R-MAR", "F1", "general", 202503,
               {{1, "B1", "dibao", 202503, 104500},
                {2, "B2", "dibao", 202503, 104500},
                {3, "B3", "dibao", 202503, 104500}}));
    Ok(Approve("R-MAR"));
    // April: B1 the same, B2 less, B3 died in March (dropped), B4 new in two programs.
    Ok(ChangeStatus("B3", fb::BeneficiaryStatus::deceased, 20250320));
    Ok(Prepare("R-APR", "F1", "general", 202504,
               {{1, "B1", "dibao", 202504, 104500},
                {2, "B2", "dibao", 202504, 90000},
                {3, "B4", "dibao", 202504, 104500},
                {4, "B4", "tekun", 202504, 146300}}));
    ASSERT_TRUE(SharedFile(dir_ + "/" + kRegionNamesFile, "names")
                    .Replace("110105\t朝阳区\n110106\t丰台区\n")
                    .ok());
    StartService({{"maker", "t.maker", "maker"},
                  {"checker", "t.checker", "checker"},
                  {"admin-maker", kMaker.name, "admin"}});  // the rolls' maker
  }

  json::object Review(const std::string& batch, const std::string& who = "checker") {
    HttpResponse r = Call("GET", "/v1/disbursement-batches/" + batch + "/review", who);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body).as_object() : json::object();
  }
};

// {code: [lines, people, amount]} of a totals list.
std::map<std::string, std::tuple<int64_t, int64_t, std::string>> Totals(const json::value& list,
                                                                        const char* key) {
  std::map<std::string, std::tuple<int64_t, int64_t, std::string>> out;
  for (const json::value& v : list.as_array()) {
    out[std::string(v.at(key).as_string())] = {v.at("lines").as_int64(), v.at("people").as_int64(),
                                               std::string(v.at("amount").as_string())};
  }
  return out;
}

TEST_F(BatchReviewTest, TotalsByProgramAndRegionAddUpToTheRollsLines) {
  json::object r = Review("R-APR");
  EXPECT_EQ(r.at("total").as_string(), "4453.00");
  EXPECT_EQ(r.at("maker").as_string(), kMaker.name);
  using T = std::tuple<int64_t, int64_t, std::string>;
  EXPECT_EQ(Totals(r.at("by_program"), "program_id"),
            (std::map<std::string, T>{{"dibao", {3, 3, "2990.00"}}, {"tekun", {1, 1, "1463.00"}}}));
  EXPECT_EQ(
      Totals(r.at("by_region"), "region"),
      (std::map<std::string, T>{{"110105", {2, 2, "1945.00"}}, {"110106", {2, 1, "2508.00"}}}));
  // Region names from the names table the disclosures use; program names from their definition.
  EXPECT_EQ(r.at("by_region").at(0).at("name").as_string(), "朝阳区");
  EXPECT_EQ(r.at("sample").as_array().size(), 4u);
  int64_t program_sum = 0, region_sum = 0;
  for (const json::value& v : r.at("by_program").as_array())
    program_sum += v.at("amount_fen").as_int64();
  for (const json::value& v : r.at("by_region").as_array())
    region_sum += v.at("amount_fen").as_int64();
  EXPECT_EQ(program_sum, r.at("total_fen").as_int64());
  EXPECT_EQ(region_sum, r.at("total_fen").as_int64());
}

TEST_F(BatchReviewTest, TheChangeFromLastMonthListsPeopleAddedDroppedAndAmountsChanged) {
  const json::object review_apr = Review("R-APR");  // kept: m refers into it
  const json::object& m = review_apr.at("previous_month").as_object();
  EXPECT_EQ(m.at("period").as_string(), "2025-03");
  EXPECT_EQ(json::serialize(m.at("batches")), R"(["R-MAR"])");
  EXPECT_EQ(m.at("total").as_string(), "3135.00");
  EXPECT_EQ(m.at("people_added").as_int64(), 1);
  EXPECT_EQ(m.at("people_dropped").as_int64(), 1);
  const json::object& added = m.at("added").as_object();
  ASSERT_EQ(added.at("count").as_int64(), 2);
  EXPECT_EQ(added.at("amount").as_string(), "2508.00");
  EXPECT_EQ(added.at("lines").at(0).at("beneficiary_id").as_string(), "B4");
  EXPECT_EQ(added.at("lines").at(1).at("program_id").as_string(), "tekun");
  const json::object& dropped = m.at("dropped").as_object();
  ASSERT_EQ(dropped.at("count").as_int64(), 1);
  EXPECT_EQ(dropped.at("lines").at(0).at("beneficiary_id").as_string(), "B3");
  EXPECT_EQ(dropped.at("lines").at(0).at("previous_amount").as_string(), "1045.00");
  EXPECT_EQ(dropped.at("lines").at(0).at("status").as_string(), "deceased");
  EXPECT_EQ(dropped.at("lines").at(0).at("region_name").as_string(), "朝阳区");
  const json::object& changed = m.at("changed").as_object();
  ASSERT_EQ(changed.at("count").as_int64(), 1);
  EXPECT_EQ(changed.at("amount").as_string(), "-145.00");
  EXPECT_EQ(changed.at("lines").at(0).at("beneficiary_id").as_string(), "B2");
  EXPECT_EQ(changed.at("lines").at(0).at("previous_amount").as_string(), "1045.00");
  EXPECT_EQ(changed.at("lines").at(0).at("amount").as_string(), "900.00");
  EXPECT_FALSE(changed.at("truncated").as_bool());
  // March had no approved roll before it: everyone is new.
  const json::object review_mar = Review("R-MAR");  // kept: first refers into it
  const json::object& first = review_mar.at("previous_month").as_object();
  EXPECT_EQ(first.at("batches").as_array().size(), 0u);
  EXPECT_EQ(first.at("added").at("count").as_int64(), 3);
}

TEST_F(BatchReviewTest, ALargeChangeListsItsFirstLinesAndCountsThemAll) {
  const size_t people = kReviewChangeLinesMax + 5;
  std::vector<RollLine> lines;
  for (size_t i = 0; i < people; ++i) {
    std::string id = "N" + std::to_string(i);
    Register(id, "110105", 196001, static_cast<int>(i));
    Enroll(id, "dibao", 104500);
    lines.push_back({static_cast<uint32_t>(i + 1), id, "dibao", 202505, 100});
  }
  Ok(Prepare("R-MAY", "F1", "general", 202505, lines));
  const json::object review_may = Review("R-MAY");  // kept: m refers into it
  const json::object& m = review_may.at("previous_month").as_object();
  EXPECT_EQ(m.at("batches").as_array().size(), 0u);  // April's roll waits: not last month's roll
  const json::object& added = m.at("added").as_object();
  EXPECT_EQ(added.at("count").as_int64(), static_cast<int64_t>(people));
  EXPECT_EQ(added.at("lines").as_array().size(), kReviewChangeLinesMax);
  EXPECT_TRUE(added.at("truncated").as_bool());
  EXPECT_EQ(added.at("amount").as_string(), FormatFen(static_cast<int64_t>(people) * 100));
  EXPECT_EQ(Review("R-MAY").at("sample").as_array().size(), kReviewSampleLinesMax);
}

TEST_F(BatchReviewTest, TheApprovalSheetHoldsTheFiguresMakerCheckerAndTheLogItWasReadAt) {
  Ok(Approve("R-APR"));
  HttpResponse r = Call("GET", "/v1/disbursement-batches/R-APR/approval-sheet", "checker");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  json::object review = Review("R-APR");
  for (const std::string& figure : {std::string("发放名册审批表"),
                                    std::string("R-APR"),
                                    std::string("4453.00"),
                                    std::string("2990.00"),
                                    std::string("1463.00"),
                                    std::string("朝阳区（110105）"),
                                    std::string("1945.00"),
                                    std::string("2508.00"),
                                    std::string("R-MAR"),
                                    std::string("3135.00"),
                                    std::string("-145.00"),
                                    std::string("已去世"),
                                    std::string(kMaker.name),
                                    std::string(kChecker.name),
                                    std::string("已批准"),
                                    "#" + std::to_string(review.at("prepared_index").as_int64()),
                                    "#" + std::to_string(review.at("decided_index").as_int64()),
                                    "前 " + std::to_string(*r.log_size) + " 条",
                                    std::string("复核人（签字）"),
                                    std::string("@media print")}) {
    EXPECT_NE(r.body.find(figure), std::string::npos) << figure;
  }
  EXPECT_EQ(Call("GET", "/v1/disbursement-batches/NOPE/approval-sheet", "checker").status, 404);
}

TEST_F(BatchReviewTest, TheReviewSaysWhyAMakerCannotDecideAndTheLedgerRefusesInTheirLanguage) {
  EXPECT_TRUE(Review("R-APR").at("decision").at("allowed").as_bool());
  const json::value maker = Review("R-APR", "maker").at("decision");
  EXPECT_FALSE(maker.at("allowed").as_bool());
  EXPECT_EQ(maker.at("code").as_string(), "role");
  const json::value own = Review("R-APR", "admin-maker").at("decision");
  EXPECT_EQ(own.at("code").as_string(), "same_maker_checker");
  HttpResponse tried = Call("POST", "/v1/disbursement-batches/R-APR/approve", "admin-maker",
                            R"({"document":"x"})", "zh-CN,zh;q=0.9");
  ASSERT_EQ(tried.status, 422) << tried.body;
  EXPECT_NE(tried.body.find("制单人不能审批自己制作的批次"), std::string::npos) << tried.body;
  EXPECT_EQ(Review("R-MAR").at("decision").at("code").as_string(), "not_waiting");
}

TEST_F(BatchReviewTest, ARejectionWithoutAReasonIsRefusedAndTheRollStillWaits) {
  for (const char* body : {R"({})", R"({"reason":""})", R"({"reason":"  \u3000 "})"}) {
    HttpResponse r =
        Call("POST", "/v1/disbursement-batches/R-APR/reject", "checker", body, "zh-CN");
    ASSERT_EQ(r.status, 400) << body << r.body;
    json::object e = json::parse(r.body).at("error").as_object();
    EXPECT_EQ(e.at("field").as_string(), "reason") << r.body;
    EXPECT_NE(std::string(e.at("message").as_string()).find("须写明原因"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(Review("R-APR").at("status").as_string(), "prepared");
  HttpResponse ok = Call("POST", "/v1/disbursement-batches/R-APR/reject", "checker",
                         R"({"reason":"B2 的金额与核定不符"})");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Review("R-APR").at("status").as_string(), "rejected");
}

}  // namespace
}  // namespace fundledger::testing
