// Roll files as banks and spreadsheets produce them: Chinese headers, a BOM, quotes, CRLF,
// extra columns; every malformed line reported with its line number in the file.
#include "api/roll_parser.h"

#include <gtest/gtest.h>

#include <algorithm>

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
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].line.beneficiary, "B1");
  EXPECT_EQ(r->rows[0].line.line_no, 2u);  // the file's line: the header is line 1
  EXPECT_EQ(r->rows[0].line.amount_fen, 104500);
  EXPECT_EQ(r->rows[0].line.period, 202503);
  EXPECT_EQ(r->rows[1].line.period, 202504);  // empty: the roll's period
  EXPECT_EQ(r->rows[2].line.amount_fen, 146350);
  EXPECT_EQ(r->ignored_columns, (std::vector<std::string>{"序号"}));
  EXPECT_EQ(r->rows[0].name, "王, 小明");
  EXPECT_EQ(r->total, Amount::Fen(104500 + 104500 + 146350));
}

TEST(RollParser, CsvCellsWithQuotesLineBreaksAndSpacesReadAsWritten) {
  std::string_view text =
      " B1 ,\"a \"\"b\"\"\", \" c \" ,x\"y,z\"w,\"line\nbreak\",\r\n"
      "last,\"\"\"\"\n"
      "\"open";
  std::vector<std::string> f;
  ASSERT_TRUE(NextCsvRecord(text, f));
  EXPECT_EQ(f, (std::vector<std::string>{"B1", "a \"b\"", "c", "xy,zw", "line\nbreak", ""}));
  ASSERT_TRUE(NextCsvRecord(text, f));
  EXPECT_EQ(f, (std::vector<std::string>{"last", "\""}));
  EXPECT_FALSE(NextCsvRecord(text, f));  // a quote left open
  EXPECT_EQ(f, (std::vector<std::string>{"open"}));
  EXPECT_TRUE(text.empty());
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
  EXPECT_EQ(std::count_if(r->rows.begin(), r->rows.end(), [](auto& row) { return row.parsed; }),
            3);  // B1, B6 and B7: which program "di bao" is, is the resolver's question
  ASSERT_EQ(r->errors.size(), 4u);
  std::vector<std::pair<uint64_t, std::string>> expected{
      {3, "amount"}, {4, "beneficiary_id"}, {5, "line"}, {6, "amount"}};
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
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].line.amount_fen, 104500);
  EXPECT_EQ(r->rows[1].line.amount_fen, 104500);
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line(), 3u);
}

TEST(RollParser, HeaderMustNameTheColumnsAndEmptyRollsAreRefused) {
  EXPECT_EQ(ParseRoll("name,amount\nx,1\n", RollFormat::kCsv, 202503).status().line(), 1u);
  EXPECT_FALSE(ParseRoll("", RollFormat::kCsv, 202503).ok());
  EXPECT_FALSE(ParseRoll("beneficiary_id,program_id,amount\n", RollFormat::kCsv, 202503).ok());
}

TEST(RollParser, PeriodsAsClerksWriteThem) {
  for (const char* text : {"2026-02", "2026-2", "2026/02", "2026.02", "2026年2月", "2026年02月",
                           "202602", " 2026/2 "}) {
    Result<int32_t> p = ParseRollPeriod(text);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status().ToString();
    EXPECT_EQ(*p, 202602) << text;
  }
  for (const char* text : {"2026-13", "202600", "2026", "26-02", "2026年", "2026-02-01", "二月"}) {
    EXPECT_FALSE(ParseRollPeriod(text).ok()) << text;
  }
}

TEST(RollParser, YuanAsClerksWriteItExactly) {
  std::vector<std::pair<const char*, int64_t>> good{{"1045", 104500},
                                                    {"1045.00", 104500},
                                                    {"1,045.00", 104500},
                                                    {"¥1,045.00", 104500},
                                                    {"￥1045.5", 104550},
                                                    {"1045元", 104500},
                                                    {"12,345,678.09", 1234567809},
                                                    {"0.01", 1},
                                                    {"¥ 1,045", 104500}};
  for (auto [text, fen] : good) {
    Result<int64_t> r = ParseRollYuan(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    EXPECT_EQ(*r, fen) << text;
  }
  for (const char* text : {"1,04.5", "10,45", ",1045", "1045.456", "1e3", "-5", "1,0450", "¥",
                           "1 045", "1,045,", "0x10"}) {
    EXPECT_FALSE(ParseRollYuan(text).ok()) << text;
  }
}

TEST(RollParser, GbkFromExcelIsDetectedAndRowsMatchTheSpreadsheet) {
  // "姓名,身份证号,项目,金额" and "张三,…,低保,1045" as GBK bytes.
  std::string gbk =
      "\xD0\xD5\xC3\xFB,\xC9\xED\xB7\xDD\xD6\xA4\xBA\xC5,\xCF\xEE\xC4\xBF,"
      "\xBD\xF0\xB6\xEE\r\n"
      "\xD5\xC5\xC8\xFD,11010519491231002X,\xB5\xCD\xB1\xA3,1045\r\n"
      "\"\xD5\xC5\n\xC8\xFD\",11010519491231002X,\xB5\xCD\xB1\xA3,x\r\n"
      ",,,\r\n"
      "\xC0\xEE,11010519491231002X,\xB5\xCD\xB1\xA3,1045\r\n";
  Result<ParsedRoll> r = ParseRoll(gbk, RollFormat::kCsv, 202603);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->encoding, "GB18030");
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0].name, "张三");
  EXPECT_EQ(r->rows[0].line.program, "低保");
  EXPECT_EQ(r->rows[0].id_number, "11010519491231002X");
  // A cell holding a line break is one spreadsheet row; an empty row still counts.
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].line(), 3u);
  EXPECT_EQ(r->rows[2].line.line_no, 5u);
  EXPECT_EQ(r->rows[2].name, "李");
}

TEST(RollParser, TextThatIsNeitherUtf8NorGbkIsRefusedSayingSo) {
  Result<ParsedRoll> r =
      ParseRoll("beneficiary_id,program_id,amount\n\x81\x20,x,1\n", RollFormat::kCsv, 202603);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("GBK"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace fundledger
