// A roll uploaded as a clerk's spreadsheet saves it, through the roll endpoint: GBK or UTF-8,
// Chinese headers, people by ID number, programs by name, periods and amounts as typed; every
// problem of every row in one answer (parse errors and rule violations together) with the
// spreadsheet's row numbers, in Chinese when asked; a bounded answer with the full list as CSV.
#include <iconv.h>

#include <boost/json.hpp>

#include "api/service.h"
#include "tests/api/service_fixture.h"

namespace fundledger::testing {
namespace {

namespace json = boost::json;

std::string ToGbk(const std::string& utf8) {
  iconv_t cd = iconv_open("GBK", "UTF-8");
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size(), out_left = out.size();
  char* o = out.data();
  EXPECT_NE(iconv(cd, &in, &in_left, &o, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

class RollUploadTest : public ServiceFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    OpenFund("F1", fb::FundKind::subsidy, {"dibao", "tekun"});
    DefineProgram("dibao", fb::ProgramCategory::dibao, 104500, 104500);
    DefineProgram("tekun", fb::ProgramCategory::tekun, 146300, 146300);
    for (int i = 1; i <= 6; ++i) {
      std::string id = "B" + std::to_string(i);
      Register(id, "110105", 196001, i);
      Enroll(id, "dibao", 104500);
      id_number_[id] = ledger_->ReadPersonalData(id)->id_number;
    }
    Appropriate("F1", "general", 100'000'000);
    StartService({{"maker", "t.maker", "maker"}, {"checker", "t.checker", "checker"}});
  }

  HttpResponse Upload(const std::string& body, const std::string& language = "",
                      const std::string& query = "fund_id=F1&period=2025-03") {
    return Call("POST", "/v1/disbursement-batches?" + query, "maker", body, language, "text/csv");
  }

  HttpResponse Get(const std::string& target, const std::string& role) {
    return Call("GET", target, role);
  }

  std::map<std::string, std::string> id_number_;
};

TEST_F(RollUploadTest, AGbkRollWithSixBadRowsReportsAllSixAtOnceWithItsRowNumbers) {
  std::string bad_check = id_number_["B5"];
  bad_check.back() = bad_check.back() == '0' ? '1' : '0';
  std::string csv =
      "序号,姓名,身份证号,项目,发放月份,金额\r\n"
      "1,张三明," +
      id_number_["B1"] +
      ",低保,2025年3月,\"￥1,045.00\"\r\n"
      "2,张三明," +
      id_number_["B2"] +
      ",低保,2025/03,\"1,04.5\"\r\n"
      "3,李四," +
      id_number_["B3"] +
      ",低保,202503,1045\r\n"
      "4,张三明," +
      bad_check +
      ",低保,2025-03,1045\r\n"
      "5,张三明," +
      id_number_["B4"] +
      ",低保,2025-03,2000.00\r\n"
      "6,张三明," +
      id_number_["B1"] +
      ",低保,2025-03,1045\r\n"
      "7,张三明," +
      id_number_["B6"] + ",救助X,2025-03,1045\r\n";
  HttpResponse r = Upload(ToGbk(csv), "zh-CN,zh;q=0.9,en;q=0.8");
  ASSERT_EQ(r.status, 422) << r.body;
  json::object e = json::parse(r.body).at("error").as_object();
  EXPECT_EQ(e.at("code").as_string(), "lines_rejected");
  EXPECT_EQ(e.at("details_total").as_int64(), 6);
  std::vector<std::tuple<int64_t, std::string, std::string>> expected{
      {3, "amount", "invalid_argument"},          {4, "name", "invalid_argument"},
      {5, "id_number", "invalid_argument"},       {6, "amount_fen", "over_cap"},
      {7, "beneficiary_id", "duplicate_payment"}, {8, "program_id", "unknown_program"}};
  const json::array& details = e.at("details").as_array();
  ASSERT_EQ(details.size(), expected.size()) << r.body;
  for (size_t i = 0; i < expected.size(); ++i) {
    const json::object& d = details[i].as_object();
    EXPECT_EQ(d.at("line").as_int64(), std::get<0>(expected[i])) << r.body;
    EXPECT_EQ(d.at("code").as_string(), std::get<2>(expected[i])) << r.body;
  }
  EXPECT_NE(std::string(e.at("message").as_string()).find("全部未入账"), std::string::npos);
  EXPECT_NE(std::string(details[1].at("message").as_string()).find("姓名"), std::string::npos);
  // The whole list as CSV, to fix and upload again.
  HttpResponse csv_report = Get(std::string(e.at("report").as_string()), "maker");
  ASSERT_EQ(csv_report.status, 200);
  EXPECT_EQ(csv_report.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(std::count(csv_report.body.begin(), csv_report.body.end(), '\n'), 7);
  EXPECT_NE(csv_report.body.find("行号,列,代码,问题"), std::string::npos);
  EXPECT_NE(csv_report.body.find("6,amount_fen,over_cap,"), std::string::npos);
  EXPECT_EQ(Get("/v1/roll-reports/00000000000000000000000000000000", "maker").status, 404);
}

// A page whose reader switches language redraws the problems of an upload made in the other:
// the answer carries every message in both, and the full list downloads in the language asked.
TEST_F(RollUploadTest, AChineseUploadsProblemsComeInEnglishTooAndTheListDownloadsInEither) {
  std::string csv = "beneficiary_id,program_id,amount\nB1,dibao,1045\nB2,dibao,abc\n";
  HttpResponse r = Upload(csv, "zh-CN");
  ASSERT_EQ(r.status, 400) << r.body;
  json::object e = json::parse(r.body).at("error").as_object();
  const json::object& both = e.at("translations").as_object();
  EXPECT_EQ(e.at("message").as_string(), both.at("zh").as_string());
  EXPECT_NE(std::string(both.at("en").as_string()).find("nothing was posted"), std::string::npos)
      << r.body;
  const json::object& problem = e.at("details").at(0).as_object();
  EXPECT_EQ(problem.at("message").as_string(), problem.at("translations").at("zh").as_string());
  std::string en(problem.at("translations").at("en").as_string());
  EXPECT_NE(en.find("'abc' is not an amount"), std::string::npos) << en;
  EXPECT_NE(std::string(problem.at("translations").at("zh").as_string()).find("金额"),
            std::string::npos);

  const std::string report(e.at("report").as_string());
  HttpResponse english = Call("GET", report, "maker", "", "en");
  ASSERT_EQ(english.status, 200);
  EXPECT_NE(english.body.find("row,column,code,problem"), std::string::npos) << english.body;
  HttpResponse chinese = Call("GET", report, "maker", "", "zh-CN");
  EXPECT_NE(chinese.body.find("行号,列,代码,问题"), std::string::npos) << chinese.body;
  // Asked in no language, in the upload's.
  EXPECT_EQ(Get(report, "maker").body, chinese.body);
}

TEST_F(RollUploadTest, TheFixedRollIsPreparedOnceAndTheSameFileAgainIsRecognised) {
  std::string csv =
      "\xEF\xBB\xBF姓名,身份证号,救助项目,月份,金额（元）\n"
      "张三明," +
      id_number_["B1"] +
      ",低保,2025年3月,\"¥1,045.00\"\n"
      "张三明," +
      id_number_["B2"] + ",dibao,202503,1045\n";
  HttpResponse r = Upload(csv);
  ASSERT_EQ(r.status, 201) << r.body;
  json::object o = json::parse(r.body).as_object();
  std::string batch(o.at("batch_id").as_string());
  EXPECT_EQ(batch.substr(0, 8), "R202503-");
  EXPECT_EQ(o.at("total_fen").as_int64(), 209000);
  HttpResponse again = Upload(csv);  // a new idempotency key: the file is what is recognised
  ASSERT_EQ(again.status, 422) << again.body;
  EXPECT_EQ(json::parse(again.body).at("error").at("code").as_string(), "duplicate_id");
  HttpRequest approve;
  approve.method = "POST";
  approve.target = "/v1/disbursement-batches/" + batch + "/approve";
  approve.authorization = "Bearer " + token_.at("checker");
  approve.idempotency_key = "approve-1";
  approve.body = R"({"document": "审批-2025-03"})";
  EXPECT_EQ(service_->Handle(approve).status, 201);
}

// A rejected roll's answer does not grow with the roll: the first problems inline, the rest
// counted by code, the whole list downloadable.
TEST_F(RollUploadTest, ARejectedLargeRollAnswersInBoundedSpace) {
  for (int lines : {2'000, 40'000}) {
    std::string csv = "beneficiary_id,program_id,amount\n";
    for (int i = 0; i < lines; ++i) csv += "NOBODY" + std::to_string(i) + ",dibao,1045\n";
    HttpResponse r = Upload(csv);
    ASSERT_EQ(r.status, 422);
    EXPECT_LT(r.body.size(), 32u * 1024) << lines << " lines";
    json::object e = json::parse(r.body).at("error").as_object();
    EXPECT_EQ(e.at("details").as_array().size(), kRollReportInlineMax);
    EXPECT_EQ(e.at("details_total").as_int64(), lines);
    const json::array& summary = e.at("summary").as_array();
    ASSERT_EQ(summary.size(), 1u);
    EXPECT_EQ(summary[0].at("code").as_string(), "unknown_beneficiary");
    EXPECT_EQ(summary[0].at("count").as_int64(), lines);
    HttpResponse all = Get(std::string(e.at("report").as_string()), "checker");
    ASSERT_EQ(all.status, 200);
    EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '\n'), lines + 1);
  }
}

TEST_F(RollUploadTest, AnUnreadableFileOrHeaderSaysWhatWasFound) {
  HttpResponse r = Upload("beneficiary_id,program_id,amount\n\x81\x20,dibao,1\n");
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("GBK"), std::string::npos) << r.body;
  r = Upload(ToGbk("序号,户名,钱\n1,张三,5\n"));
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("户名"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("GB18030"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace fundledger::testing
