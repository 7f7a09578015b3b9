#include "api/finding_language.h"

#include <regex>
#include <string_view>
#include <vector>

namespace fundledger {
namespace {

// One sentence the checks write: its check, its English shape (the whole detail) and the
// Chinese sentence with the shape's groups as $1, $2, ...
struct DetailShape {
  std::string_view check;
  std::regex english;
  std::string_view zh;
};

// What replay/anomaly_checks.cc calls `where`: '<program>' for <month> (batch '<id>' line <n>).
#define FL_WHERE "'(.+)' for (\\d{4}-\\d{2}) \\(batch '(.+)' line (\\d+)\\)"
#define FL_WHERE_ZH "$2“$1”（批次 $3 第 $4 行）"

const std::vector<DetailShape>& Shapes() {
  static const std::vector<DetailShape> shapes = [] {
    const std::pair<std::string_view, std::pair<const char*, const char*>> table[] = {
        {"restricted_misuse",
         {"spent (\\S+) yuan from bucket '(.+)' on '(.+)'",
          "从限定用途分户“$2”支出 $1 元用于“$3”"}},
        {"restricted_misuse",
         {"granted from restricted bucket '(.+)'", "从限定用途分户“$1”发放资助"}},
        {"restricted_misuse",
         {"restricted bucket '(.+)' moved to '(.+)'", "限定用途分户“$1”的资金转到“$2”"}},
        {"restricted_misuse",
         {"roll '(.+)' pays '(.+)' from restricted bucket '(.+)'",
          "名册 $1 从限定用途分户“$3”发放“$2”"}},
        {"lottery_misuse",
         {"lottery money spent on '(.+)', not an approved category",
          "彩票公益金用于“$1”，不是批准的用途类别"}},
        {"lottery_misuse",
         {"grant of (\\S+) yuan for '(.+)', not an approved category",
          "资助 $1 元用于“$2”，不是批准的用途类别"}},
        {"transfer_out_of_fund",
         {"(\\S+) yuan moved to fund '(.+)' out of the dedicated account",
          "$1 元从专户转到资金“$2”"}},
        {"paid_after_death",
         {"paid " FL_WHERE "; died on (\\d{4}-\\d{2}-\\d{2})",
          "已于 $5 去世，仍发放 " FL_WHERE_ZH}},
        {"paid_while_suspended",
         {"paid " FL_WHERE " while suspended", "人员暂停期间发放 " FL_WHERE_ZH}},
        {"paid_while_suspended", {"paid " FL_WHERE " while exited", "人员退出后发放 " FL_WHERE_ZH}},
        {"paid_beyond_age_limit",
         {"paid " FL_WHERE " at age (-?\\d+)", "$5 岁时发放 " FL_WHERE_ZH "，不符合年龄条件"}},
        {"above_standard",
         {"paid (\\S+) yuan '(.+)' for (\\d{4}-\\d{2}) \\(batch '(.+)' line (\\d+)\\), standard "
          "(\\S+)",
          "$3“$2”（批次 $4 第 $5 行）发放 $1 元，标准为 $6 元"}},
        {"excluded_combination",
         {"paid both '(.+)' and '(.+)' for (\\d{4}-\\d{2})", "$3 同时发放“$1”和“$2”"}},
        {"same_person_two_regions",
         {"one ID number paid as (.+) in regions (.+)", "同一身份证号以 $1 在地区 $2 领取"}},
        {"same_person_two_records",
         {"one ID number paid as (.+)", "同一身份证号以 $1 多条记录领取"}},
        {"shared_bank_account",
         {"one bank account used by (.+) of (\\d+) households", "同一银行账户由 $2 户的 $1 共用"}},
        {"idle_balance", {"(\\S+) yuan untouched for (\\d+) days", "$1 元已 $2 天没有变动"}},
        {"duplicate_payment",
         {"net paid (\\S+) yuan of '(.+)' for (\\d{4}-\\d{2}), one line is (\\S+)",
          "$3“$2”净发放 $1 元，而一行为 $4 元"}},
        {"negative_balance", {"net received (\\S+) yuan from '(.+)'", "从“$2”净收到 $1 元"}},
        {"negative_balance", {"the fund bucket holds (\\S+) yuan", "资金分户余额为 $1 元"}},
        {"charitable_below_70pct",
         {"(\\d{4}): charitable spending (\\S+) yuan \\((\\S+)\\) is below 70% of (\\d{4}) income "
          "(\\S+)",
          "$1 年慈善活动支出 $2 元（$3），低于 $4 年收入 $5 元的 70%"}},
        {"admin_above_10pct",
         {"(\\d{4}): admin costs (\\S+) of (\\S+) yuan spent \\((\\S+)\\)",
          "$1 年管理费用 $2 元，占支出 $3 元的 $4"}},
        {"disclosure_overdue",
         {"no current quarterly project disclosure for (\\d+) days",
          "已 $1 天没有当季的项目信息公开"}},
        {"disclosure_overdue",
         {"the annual report for (\\d{4}) was due by (\\d{4}-\\d{2}-\\d{2})",
          "$1 年度报告应于 $2 前公开"}},
        {"lottery_elderly_below_55pct",
         {"(\\d{4}): (\\S+) of (\\S+) yuan to elderly services \\((\\S+)\\), under (\\d+)%",
          "$1 年用于养老服务 $2 元，占支出 $3 元的 $4，低于 $5%"}},
        {"lottery_announcement_missing",
         {"no announcement of (\\d{4})'s lottery money by (\\d{4}-\\d{2}-\\d{2})",
          "$2 前没有公告 $1 年彩票公益金的使用情况"}},
    };
    std::vector<DetailShape> out;
    for (const auto& [check, shape] : table) {
      out.push_back({check, std::regex(shape.first), shape.second});
    }
    return out;
  }();
  return shapes;
}

#undef FL_WHERE
#undef FL_WHERE_ZH

std::string Chinese(const Finding& f) {
  std::smatch m;
  for (const DetailShape& shape : Shapes()) {
    if (shape.check == f.check && std::regex_match(f.detail, m, shape.english)) {
      return m.format(std::string(shape.zh));
    }
  }
  return f.detail;
}

}  // namespace

std::string FindingDetail(const Finding& finding, Language language) {
  return language == Language::kZh ? Chinese(finding) : finding.detail;
}

}  // namespace fundledger
