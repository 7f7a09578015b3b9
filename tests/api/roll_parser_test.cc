// Roll files as banks and spreadsheets produce them: Chinese headers, a BOM, quotes, CRLF,
// extra columns; every malformed line reported with its line number in the file.
#include "api/roll_parser.h"

#include <gtest/gtest.h>

namespace fundledger {
namespace {

TEST(RollParser, ChineseHeadersBomQuotesAndCrlf) {
  std::string csv =
      "\xEF\xBB\xBF序号,受益人编号,姓名,项目,发放月份,金额\r\n"
      "1,B1,\"王, 小明\",dibao,2025-03,1045.00\r\n"
      "2,B2,李四,dibao,,1045\r\n"
      "3,B3,\"张\"\"三\"\"\",tekun,202503,1463.5\r\n";
  Result<ParsedRoll> r = ParseRoll(csv, RollFormat::kCsv, 202504);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->errors.empty()) << r->errors[0].ToString();
  ASSERT_EQ(r->lines.size(), 3u);
  EXPECT_EQ(r->lines[0].beneficiary, "B1");
  EXPECT_EQ(r->lines[0].line_no, 2u);  // the file's line: the header is line 1
  EXPECT_EQ(r->lines[0].amount_fen, 104500);
  EXPECT_EQ(r->lines[0].period, 202503);
  EXPECT_EQ(r->lines[1].period, 202504);  // empty: the roll's period
  EXPECT_EQ(r->lines[2].amount_fen, 146350);
  EXPECT_EQ(r->ignored_columns, (std::vector<std::string>{"序号", "姓名"}));
  EXPECT_EQ(r->total, Amount::Fen(104500 + 104500 + 146350));
}

TEST(RollParser, EveryBadLineIsReportedNotOnlyTheFirst) {
  std::string csv =
      "beneficiary_id,program_id,amount\n"
      "B1,dibao,1045.00\n"
      "B2,dibao,10.456\n"
      ",dibao,1\n"
      "B4,dibao\n"
      "B5,dibao,-3\n"
      "B6,di bao,1\n"
      "B7,dibao,1045\n";
  Result<ParsedRoll> r = ParseRoll(csv, RollFormat::kCsv, 202503);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->lines.size(), 2u);
  ASSERT_EQ(r->errors.size(), 5u);
  std::vector<std::pair<uint64_t, std::string>> expected{
      {3, "amount"}, {4, "beneficiary_id"}, {5, "line"}, {6, "amount"}, {7, "program_id"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(r->errors[i].line(), expected[i].first) << r->errors[i].ToString();
    EXPECT_EQ(r->errors[i].field(), expected[i].second) << r->errors[i].ToString();
  }
}

TEST(RollParser, JsonLinesAndFenAmounts) {
  std::string jsonl =
      "{\"beneficiary_id\":\"B1\",\"program_id\":\"dibao\",\"period\":\"2025-03\",\"amount_fen\":"
      "104500}\n"
      "{\"beneficiary_id\":\"B2\",\"program_id\":\"dibao\",\"amount\":\"1045.00\"}\n"
      "not json\n";
  Result<ParsedRoll> r = ParseRoll(jsonl, DetectRollFormat("", jsonl), 202503);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->lines.size(), 2u);
  EXPECT_EQ(r->lines[0].amount_fen, 104500);
  EXPECT_EQ(r->lines[1].amount_fen, 104500);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line(), 3u);
}

TEST(RollParser, HeaderMustNameTheColumnsAndEmptyRollsAreRefused) {
  EXPECT_EQ(ParseRoll("name,amount\nx,1\n", RollFormat::kCsv, 202503).status().line(), 1u);
  EXPECT_FALSE(ParseRoll("", RollFormat::kCsv, 202503).ok());
  EXPECT_FALSE(ParseRoll("beneficiary_id,program_id,amount\n", RollFormat::kCsv, 202503).ok());
}

}  // namespace
}  // namespace fundledger
