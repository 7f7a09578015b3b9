// Every sentence the anomaly checks write (replay/anomaly_checks.cc), read back in Chinese with
// its figures kept: a finding an auditor reads in the Chinese console has no English in it.
#include "api/finding_language.h"

#include <gtest/gtest.h>

#include <regex>

namespace fundledger::testing {
namespace {

struct Written {
  const char* check;
  const char* english;
  const char* zh;
};

// Each shape once, with names that carry no English of their own.
const Written kWritten[] = {
    {"restricted_misuse", "spent 120.00 yuan from bucket '助学' on '养老'",
     "从限定用途分户“助学”支出 120.00 元用于“养老”"},
    {"restricted_misuse", "granted from restricted bucket '助学'", "从限定用途分户“助学”发放资助"},
    {"restricted_misuse", "restricted bucket '助学' moved to 'F-2/养老'",
     "限定用途分户“助学”的资金转到“F-2/养老”"},
    {"restricted_misuse", "roll 'R-1' pays '低保' from restricted bucket '特困'",
     "名册 R-1 从限定用途分户“特困”发放“低保”"},
    {"lottery_misuse", "lottery money spent on '宴请', not an approved category",
     "彩票公益金用于“宴请”，不是批准的用途类别"},
    {"lottery_misuse", "grant of 5000.00 yuan for '宴请', not an approved category",
     "资助 5000.00 元用于“宴请”，不是批准的用途类别"},
    {"transfer_out_of_fund", "300.00 yuan moved to fund 'F-9' out of the dedicated account",
     "300.00 元从专户转到资金“F-9”"},
    {"paid_after_death", "paid '低保' for 2026-03 (batch 'R-1' line 7); died on 2026-01-15",
     "已于 2026-01-15 去世，仍发放 2026-03“低保”（批次 R-1 第 7 行）"},
    {"paid_while_suspended", "paid '低保' for 2026-03 (batch 'R-1' line 7) while suspended",
     "人员暂停期间发放 2026-03“低保”（批次 R-1 第 7 行）"},
    {"paid_while_suspended", "paid '低保' for 2026-03 (batch 'R-1' line 7) while exited",
     "人员退出后发放 2026-03“低保”（批次 R-1 第 7 行）"},
    {"paid_beyond_age_limit", "paid '孤儿' for 2026-03 (batch 'R-1' line 7) at age 19",
     "19 岁时发放 2026-03“孤儿”（批次 R-1 第 7 行），不符合年龄条件"},
    {"above_standard",
     "paid 2000.00 yuan '低保' for 2026-03 (batch 'R-1' line 7), standard 1045.00",
     "2026-03“低保”（批次 R-1 第 7 行）发放 2000.00 元，标准为 1045.00 元"},
    {"excluded_combination", "paid both '低保' and '特困' for 2026-03",
     "2026-03 同时发放“低保”和“特困”"},
    {"same_person_two_regions", "one ID number paid as B-1, B-2 in regions 320102, 320104",
     "同一身份证号以 B-1, B-2 在地区 320102, 320104 领取"},
    {"same_person_two_records", "one ID number paid as B-1, B-2",
     "同一身份证号以 B-1, B-2 多条记录领取"},
    {"shared_bank_account", "one bank account used by B-1, B-2 of 2 households",
     "同一银行账户由 2 户的 B-1, B-2 共用"},
    {"idle_balance", "5000.00 yuan untouched for 200 days", "5000.00 元已 200 天没有变动"},
    {"duplicate_payment", "net paid 2090.00 yuan of '低保' for 2026-03, one line is 1045.00",
     "2026-03“低保”净发放 2090.00 元，而一行为 1045.00 元"},
    {"negative_balance", "net received 10.00 yuan from '低保'", "从“低保”净收到 10.00 元"},
    {"negative_balance", "the fund bucket holds -3.00 yuan", "资金分户余额为 -3.00 元"},
    {"charitable_below_70pct",
     "2025: charitable spending 600.00 yuan (60.0%) is below 70% of 2024 income 1000.00",
     "2025 年慈善活动支出 600.00 元（60.0%），低于 2024 年收入 1000.00 元的 70%"},
    {"admin_above_10pct", "2025: admin costs 20.00 of 100.00 yuan spent (20.0%)",
     "2025 年管理费用 20.00 元，占支出 100.00 元的 20.0%"},
    {"disclosure_overdue", "no current quarterly project disclosure for 120 days",
     "已 120 天没有当季的项目信息公开"},
    {"disclosure_overdue", "the annual report for 2025 was due by 2026-05-31",
     "2025 年度报告应于 2026-05-31 前公开"},
    {"lottery_elderly_below_55pct",
     "2025: 40.00 of 100.00 yuan to elderly services (40.0%), under 55%",
     "2025 年用于养老服务 40.00 元，占支出 100.00 元的 40.0%，低于 55%"},
    {"lottery_announcement_missing", "no announcement of 2025's lottery money by 2026-06-30",
     "2026-06-30 前没有公告 2025 年彩票公益金的使用情况"},
};

TEST(FindingLanguage, EverySentenceTheChecksWriteReadsInChineseWithItsFigures) {
  const std::regex english_word("[A-Za-z]{3,}");
  for (const Written& w : kWritten) {
    Finding f{w.check, "S-1", w.english, {1}};
    std::string zh = FindingDetail(f, Language::kZh);
    EXPECT_EQ(zh, w.zh) << w.english;
    EXPECT_FALSE(std::regex_search(zh, english_word)) << zh;
    EXPECT_EQ(FindingDetail(f, Language::kEn), w.english);
  }
}

TEST(FindingLanguage, ASentenceOfNoKnownShapeStaysAsWritten) {
  Finding f{"idle_balance", "F-1", "something the checks do not write", {}};
  EXPECT_EQ(FindingDetail(f, Language::kZh), f.detail);
  // A shape is matched only for its own check.
  Finding other{"negative_balance", "F-1", "5000.00 yuan untouched for 200 days", {}};
  EXPECT_EQ(FindingDetail(other, Language::kZh), other.detail);
}

}  // namespace
}  // namespace fundledger::testing
