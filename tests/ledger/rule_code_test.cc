#include "ledger/rule_code.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace fundledger {
namespace {

TEST(RuleCodes, EveryCodeHasAUniqueNameAndRoundTrips) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kRuleCodes.size(); ++i) {
    const RuleCodeInfo& info = kRuleCodes[i];
    EXPECT_EQ(static_cast<size_t>(info.code), i);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_FALSE(info.when.empty()) << info.name;
    EXPECT_EQ(RuleCodeFromName(info.name), info.code);
  }
  EXPECT_FALSE(RuleCodeFromName("no_such_rule").has_value());
  Status s = RuleError(RuleCode::kDuplicatePayment, "paid twice", "beneficiary_id");
  EXPECT_EQ(s.code(), StatusCode::kRuleViolation);
  EXPECT_EQ(s.rule(), "duplicate_payment");
  EXPECT_EQ(s.field(), "beneficiary_id");
}

TEST(RuleCodes, LedgerReadmeNamesEveryCode) {
  std::ifstream in(std::string(FUNDLEDGER_SOURCE_DIR) + "/ledger/README.md");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  for (const RuleCodeInfo& info : kRuleCodes) {
    EXPECT_NE(text.str().find("`" + std::string(info.name) + "`"), std::string::npos)
        << "ledger/README.md does not name the rule code " << info.name;
  }
}

}  // namespace
}  // namespace fundledger
