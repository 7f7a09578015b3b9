// A log imported from elsewhere, as a test builds one: entries appended straight to the log
// with no domain and no rules, as another system might have produced them, at times the test
// sets. For the checks that must hold over any log (anomaly checks, rebuilds), not only over
// logs the ledger's rules wrote.
#pragma once

#include <ctime>

#include "ledger/log.h"
#include "tests/domain_fixture.h"

namespace fundledger::testing {

// 12:00 in China on that day, in UTC ms.
inline int64_t NoonInChina(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = 4;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

class ImportedLog : public ::testing::Test {
 protected:
  void SetUp() override {
    LogOptions options;
    options.now_ms = [this] { return now_ms_; };
    log_ = std::move(Log::Create(dir(), "imported.local", options)).value();
  }
  // Appends straight to the log: no domain, no rules.
  void Raw(DomainEvent e, const std::string& actor = "importer") {
    Submission s;
    s.entries.push_back(NewEntry{actor, fb::Role::admin, EventTypeOf(e), EncodeEvent(e)});
    Result<AppendResult> r = log_->Append(std::move(s));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void At(int year, int month, int day) { now_ms_ = NoonInChina(year, month, day); }
  void Fund(const std::string& id, fb::FundKind kind, std::vector<std::string> programs,
            std::vector<std::string> purposes = {}) {
    Raw(FundOpening({.id = id,
                     .kind = kind,
                     .organisation = "org." + id,
                     .programs = std::move(programs),
                     .purposes = std::move(purposes)}));
  }
  void Program(const std::string& id, int64_t standard, int64_t cap,
               std::vector<std::string> excludes = {}, int age_max = 0) {
    Raw(ProgramDefinition({.id = id,
                           .standard_fen = standard,
                           .cap_fen = cap,
                           .effective_month = 202401,
                           .excludes = std::move(excludes),
                           .age_max_years = age_max}));
  }
  void Person(const std::string& id, const std::string& region, uint8_t commitment,
              int32_t birth = 196001, std::vector<uint8_t> bank = {},
              const std::string& household = "") {
    fb::BeneficiaryRegisteredT b;
    b.beneficiary_id = id;
    b.household_id = household.empty() ? "H-" + id : household;
    b.region_code = region;
    b.id_commitment.assign(32, commitment);
    b.birth_month = birth;
    b.bank_account_token = std::move(bank);
    b.registered_date = 20240101;
    Raw(b);
  }
  void Money(const std::string& fund, const std::string& bucket, int64_t amount,
             const std::string& source = "treasury") {
    Raw(Appropriation(fund, bucket, amount, source, "d"));
  }
  void Pay(const std::string& batch, const std::string& fund, const std::string& bucket,
           std::vector<RollLine> lines) {
    for (auto& chunk : PackBatch(batch, fund, bucket, lines.front().period, "roll", lines))
      Raw(chunk, "clerk");
    Raw(RollApproval(batch, ""), "checker");
  }
  std::string dir() const { return tmp_.Sub("imported"); }

  TempDir tmp_;
  int64_t now_ms_ = 1'704'067'200'000;  // 2024-01-01
  std::unique_ptr<Log> log_;
};

}  // namespace fundledger::testing
